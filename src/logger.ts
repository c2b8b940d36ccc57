import { type DestinationStream, type Logger, pino } from 'pino'
import { CENSOR, isSecretField, scrubLogValue } from './scrubLogValue.js'

/**
 * Every field of every log line goes through scrubLogValue: secret-named fields are censored at any
 * depth, and errors, wherever they sit, are printed without a failed statement's bound values or a
 * Redis command's arguments. (pino's `redact` paths reach fixed depths only.)
 */
export function scrubLogFields(fields: Record<string, unknown>): Record<string, unknown> {
  const scrubbed: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    scrubbed[key] = isSecretField(key) ? CENSOR : servedBySerializer(key, value) ? value : scrubLogValue(value)
  }
  return scrubbed
}

/**
 * Fastify's request and reply, which its `req` and `res` serializers (run after this) reduce to
 * fixed fields (method, URL, address; status): left whole for them, as scrubbing would turn them into
 * plain objects those serializers cannot read.
 */
function servedBySerializer(key: string, value: unknown): boolean {
  return (key === 'req' || key === 'res') && typeof value === 'object' && value !== null && Object.getPrototypeOf(value) !== Object.prototype
}

/** For an error logged already scrubbed (`err` went through scrubLogFields): left as it is. A child's serializers (Fastify's) call it too. */
export function serializeError(err: unknown): unknown {
  return err instanceof Error ? scrubLogValue(err) : err
}

/**
 * Without a `destination`, lines go to stdout synchronously: pino's own default there is an async
 * writer, and a process that logs and then exits (a shutdown's last words, a crash's) had the line
 * still being written overtaken by the next one, which pino's exit flush writes at once.
 */
export function createLogger(level: string, name = 'deputy', destination?: DestinationStream): Logger {
  const options = { name, level, formatters: { log: scrubLogFields }, serializers: { err: serializeError } }
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }))
}
