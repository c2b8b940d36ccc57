import { pino } from 'pino'

/** One captured log line, parsed: pino's own fields, the message, and the fields of the call. */
export type LogEntry = { level: number; msg: string; err?: { message: string; code?: string }; [field: string]: unknown }

/** A logger whose lines (`level` and above, default warn) a test reads back, raw or parsed (`entries`). */
export function capturedLog(level = 'warn') {
  const lines: string[] = []
  const log = pino({ level }, { write: (line: string) => void lines.push(line) })
  return { log, lines, entries: () => lines.map((line) => JSON.parse(line) as LogEntry) }
}
