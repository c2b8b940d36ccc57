import { type DestinationStream, type Logger, pino } from 'pino'
import { QUERY_PARAMS_LINE } from './core/errors/errorMessage.js'

/**
 * Paths pino removes from every log line. Session keys, sealed keys, wallet and
 * authorization signatures' secrets, API keys and Privy credentials never reach
 * logs; objects that hold keys also redact themselves when printed.
 */
export const redactPaths = [
  'privateKey', '*.privateKey', 'secret', '*.secret', 'sealedPrivateKey', '*.sealedPrivateKey',
  'masterKey', '*.masterKey', 'apiKey', '*.apiKey', 'authorization', '*.authorization',
  'headers.authorization', 'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers["privy-authorization-signature"]',
  'appSecret', '*.appSecret', 'authorizationKeys', '*.authorizationKeys', 'jwt', '*.jwt', 'DEPUTY_MASTER_KEY', 'ADMIN_TOKEN', 'DEV_WALLET_KEYS', 'PRIVY_APP_SECRET', 'PRIVY_AUTHORIZATION_KEYS',
]

/**
 * pino's error serializer, less the bound values of a failed statement (`params`, and the line
 * repeating them in the message and stack): they carry whatever the statement wrote (a sealed
 * session key, an API key's hash, a user's text), which path redaction cannot see inside a message.
 * Likewise the arguments of a Redis command ioredis puts on its errors (`command.args`): a refused
 * AUTH carries REDIS_URL's user and password.
 */
export function serializeError(err: unknown): unknown {
  const serialized = pino.stdSerializers.err(err as Error) as unknown
  if (typeof serialized !== 'object' || serialized === null) return serialized
  const fields = serialized as Record<string, unknown>
  if ('params' in fields) fields.params = '[redacted]'
  const command = fields.command
  if (typeof command === 'object' && command !== null && 'args' in command) fields.command = { ...command, args: '[redacted]' }
  for (const key of ['message', 'stack']) {
    const text = fields[key]
    if (typeof text === 'string') fields[key] = text.replace(QUERY_PARAMS_LINE, '\nparams: [redacted]')
  }
  return fields
}

export function createLogger(level: string, name = 'deputy', destination?: DestinationStream): Logger {
  const options = { name, level, redact: { paths: redactPaths, censor: '[redacted]' }, serializers: { err: serializeError } }
  return destination ? pino(options, destination) : pino(options)
}
