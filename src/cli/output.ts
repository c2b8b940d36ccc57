/** Output of client commands: a readable table or line for people, JSON with `--json` for scripts. */
export type Output = {
  readonly json: boolean
  /** The command's result: `human()` for people, `data` as JSON for scripts. */
  result(data: unknown, human: () => string): void
  /** Progress of a long operation; stderr, so `--json` output stays parseable. */
  progress(line: string): void
}

export function createOutput(json: boolean, streams: { out: NodeJS.WritableStream; err: NodeJS.WritableStream } = { out: process.stdout, err: process.stderr }): Output {
  return {
    json,
    result(data, human) {
      streams.out.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${printable(human())}\n`)
    },
    progress(line) {
      streams.err.write(`${printable(line)}\n`)
    },
  }
}

/**
 * Text for a terminal: every control character but the line feed (ANSI escape sequences, carriage
 * returns, C1 controls) as a visible `\uXXXX` escape (`\r` for a carriage return), so text a user stored
 * (a halt reason, a clientRef) cannot move the cursor, clear the screen or forge a line; so are the
 * invisible bidirectional marks and overrides (U+202E), which would reorder what a line shows.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => (c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))
}

/**
 * `printable`, and a line feed as `\\n` too: for a value printed within a line (a table's cell, a
 * reason in parentheses), where stored text with a line feed would print a line of its own.
 */
export function singleLine(text: string): string {
  return printable(text).replaceAll('\n', '\\n')
}

/** A plain-text table: a header row, then aligned columns (each cell on one line, `singleLine`). */
export function table(headers: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[], empty = '(none)'): string {
  if (rows.length === 0) return `  ${empty}`
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : singleLine(String(cell)))))]
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)))
  return cells.map((row) => `  ${row.map((cell, i) => (i === row.length - 1 ? cell : (cell ?? '').padEnd(widths[i]!))).join('  ')}`.trimEnd()).join('\n')
}

/** The first 8 characters of an id, enough to tell rows apart in a table. */
export const shortId = (id: string): string => id.slice(0, 8)

/** A duration for people: "in 5h 12m", "3d 2h ago". */
export function relative(seconds: number): string {
  const abs = Math.abs(Math.round(seconds))
  const [d, h, m] = [Math.floor(abs / 86400), Math.floor((abs % 86400) / 3600), Math.floor((abs % 3600) / 60)]
  const text = d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m` : `${abs}s`
  return seconds >= 0 ? `in ${text}` : `${text} ago`
}
