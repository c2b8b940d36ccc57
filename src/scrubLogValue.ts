import { pino } from 'pino'
import { QUERY_PARAMS_LINE } from './core/errors/errorMessage.js'

export const CENSOR = '[redacted]'

/**
 * Field names whose values never reach logs, at any depth and in any case: session keys, sealed
 * keys, the master key, API keys, Privy credentials, authorization headers, the settings that hold them.
 */
const SECRET_FIELDS = new Set([
  'privatekey', 'secret', 'sealedprivatekey', 'masterkey', 'apikey', 'authorization', 'x-api-key',
  'privy-authorization-signature', 'appsecret', 'authorizationkeys', 'jwt', 'password',
  'deputy_master_key', 'admin_token', 'dev_wallet_keys', 'privy_app_secret', 'privy_authorization_keys',
])

export function isSecretField(key: string): boolean {
  return SECRET_FIELDS.has(key.toLowerCase())
}

/** Deeper than this, a value is not printed (a log line is not a dump; and nothing below is checked). */
const MAX_DEPTH = 10

/**
 * A copy of a logged value that is safe to print: secret-named fields censored at any depth, and
 * every error (wherever it sits: a field, a wrapped error's, an AggregateError's list) printed as
 * pino prints errors, less the bound values of a failed statement (`params`, and the line repeating
 * them in the message and stack) and the arguments of a Redis command (`command.args`, on ioredis
 * errors and their `previousErrors`: a refused AUTH carries REDIS_URL's password, a queued command
 * its job's data). Objects with `toJSON` are read through it, as JSON.stringify would (key objects
 * print their public half only).
 */
export function scrubLogValue(value: unknown): unknown {
  return scrub(value, new Set(), 0)
}

function scrub(value: unknown, path: Set<object>, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (path.has(value)) return '[Circular]'
  if (depth >= MAX_DEPTH) return '[too deep]'
  path.add(value)
  try {
    if (isError(value)) return scrubError(value, path, depth)
    const json = (value as { toJSON?: unknown }).toJSON
    if (typeof json === 'function') return scrub(json.call(value), path, depth + 1)
    if (Array.isArray(value)) return value.map((item) => scrub(item, path, depth + 1))
    return scrubFields(Object.entries(value), path, depth)
  } finally {
    path.delete(value)
  }
}

function scrubFields(entries: [string, unknown][], path: Set<object>, depth: number): Record<string, unknown> {
  const fields: Record<string, unknown> = {}
  for (const [key, item] of entries) fields[key] = isSecretField(key) ? CENSOR : scrub(item, path, depth + 1)
  return fields
}

function scrubError(error: Error, path: Set<object>, depth: number): Record<string, unknown> {
  // pino's own serializer for the type, and the message and stack with their causes'.
  const { type, message, stack } = pino.stdSerializers.err(error)
  const own: [string, unknown][] = []
  // for…in, as pino's serializer: enumerable fields, inherited ones included. Causes are in the message and stack already.
  for (const key in error) {
    const item = (error as unknown as Record<string, unknown>)[key]
    if (!(key === 'cause' && typeof item === 'object' && item !== null && isError(item)) && !['type', 'message', 'stack', 'aggregateErrors'].includes(key)) own.push([key, item])
  }
  const fields: Record<string, unknown> = { type, message: withoutParams(message), stack: withoutParams(stack), ...scrubFields(own, path, depth) }
  if (Array.isArray((error as { errors?: unknown }).errors)) fields.aggregateErrors = scrub((error as AggregateError).errors, path, depth + 1)
  if ('params' in fields) fields.params = CENSOR
  const command = fields.command
  if (typeof command === 'object' && command !== null && 'args' in command) fields.command = { ...command, args: CENSOR }
  return fields
}

function withoutParams(text: unknown): unknown {
  return typeof text === 'string' ? text.replace(QUERY_PARAMS_LINE, `\nparams: ${CENSOR}`) : text
}

function isError(value: object): value is Error {
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]'
}
