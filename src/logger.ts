import { type Logger, pino } from 'pino'

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

export function createLogger(level: string, name = 'deputy'): Logger {
  return pino({ name, level, redact: { paths: redactPaths, censor: '[redacted]' } })
}
