import { pino } from 'pino'

/** A logger whose lines (`level` and above, default warn) a test reads back. */
export function capturedLog(level = 'warn') {
  const lines: string[] = []
  const log = pino({ level }, { write: (line: string) => void lines.push(line) })
  return { log, lines }
}
