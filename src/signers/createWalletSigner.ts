import type { Address, Hex } from 'viem'
import { LocalWalletSigner } from './LocalWalletSigner.js'
import type { WalletSigner } from './WalletSigner.js'
import { AuthorizationPrivateKey, parseAuthorizationKeys } from './privy/AuthorizationPrivateKey.js'
import { combinedAuthorizer, keyAuthorizer } from './privy/authorizers.js'
import { ConfigError } from '../core/errors/ConfigError.js'
import { PrivyError, privyConfigError } from './privy/errors.js'
import { DEFAULT_PRIVY_API_URL, PrivyApi, type RequestAuthorizer } from './privy/PrivyApi.js'
import { PrivyUserSigner } from './privy/PrivyUserSigner.js'
import { PrivyWalletSigner } from './privy/PrivyWalletSigner.js'

/** Development: a private key held in process (never in production). */
export type LocalWalletSignerConfig = { walletSigner: 'local'; privateKey: Hex }

/** Production: the user's Privy embedded wallet, reached through Deputy's session signer. */
export type PrivyWalletSignerConfig = {
  walletSigner: 'privy'
  /** PRIVY_APP_ID (not needed when `api` is given) */
  appId?: string
  /** PRIVY_APP_SECRET (not needed when `api` is given) */
  appSecret?: string
  /** PRIVY_API_URL, default https://api.privy.io */
  apiUrl?: string
  /**
   * PRIVY_AUTHORIZATION_KEYS: `wallet-auth:` keys, comma-separated or as a list,
   * or already parsed (all the quorum members Deputy holds).
   */
  authorizationKeys: string | readonly string[] | readonly AuthorizationPrivateKey[]
  /** The user's wallet: Privy wallet id and address (see fetchDelegatedWallets). */
  walletId: string
  address: Address
  /** Also sign as the user (user-owned wallets without a session signer): returns the user's JWT. */
  userJwt?: () => string | Promise<string>
  /** privy-request-expiry window, ms. Default 120 s. */
  requestExpiryMs?: number
  /** Reuse one API client across wallets (otherwise one is built from appId/appSecret/apiUrl). */
  api?: PrivyApi
}

export type WalletSignerConfig = LocalWalletSignerConfig | PrivyWalletSignerConfig

function toKeys(value: PrivyWalletSignerConfig['authorizationKeys']): AuthorizationPrivateKey[] {
  if (typeof value === 'string') return parseAuthorizationKeys(value)
  return value.flatMap((key) => (key instanceof AuthorizationPrivateKey ? [key] : parseAuthorizationKeys([key])))
}

/** Builds the wallet signer the configuration names. Throws PRIVY.CONFIG on unusable Privy settings. */
export function createWalletSigner(config: WalletSignerConfig): WalletSigner {
  if (config.walletSigner === 'local') return LocalWalletSigner.fromPrivateKey(config.privateKey)

  const api = config.api ?? new PrivyApi({ appId: config.appId ?? '', appSecret: config.appSecret ?? '', apiUrl: config.apiUrl })
  const keys = toKeys(config.authorizationKeys)
  const authorizers: RequestAuthorizer[] = []
  if (keys.length > 0) authorizers.push(keyAuthorizer(keys))
  if (config.userJwt) authorizers.push(new PrivyUserSigner({ api, userJwt: config.userJwt }))
  if (authorizers.length === 0) {
    throw privyConfigError('no authorization keys and no user signer', 'set PRIVY_AUTHORIZATION_KEYS to the private key(s) of the session signer added to users\' wallets')
  }
  return new PrivyWalletSigner({
    api,
    walletId: config.walletId,
    address: config.address,
    authorizer: authorizers.length === 1 ? authorizers[0]! : combinedAuthorizer(authorizers),
    requestExpiryMs: config.requestExpiryMs,
  })
}

/**
 * The app-wide part of the configuration, as read from the environment. The
 * secrets are already inside redacting objects (PrivyApi, AuthorizationPrivateKey),
 * so logging this object cannot leak them. Spread it into a PrivyWalletSignerConfig
 * with the wallet's id and address.
 */
export type WalletSignerEnv =
  | { walletSigner: 'local' }
  | { walletSigner: 'privy'; api: PrivyApi; authorizationKeys: AuthorizationPrivateKey[] }

/**
 * Reads the wallet-signer environment variables:
 * - `WALLET_SIGNER`: `local` (default) or `privy`
 * - `PRIVY_APP_ID`, `PRIVY_APP_SECRET`: the app's basic-auth credentials
 * - `PRIVY_AUTHORIZATION_KEYS`: comma-separated `wallet-auth:` private keys of the session signer
 * - `PRIVY_API_URL`: default `https://api.privy.io`
 * Keys are parsed here so a bad value fails at startup, not at the first signature. A bad one is a
 * ConfigError, `VARIABLE: rule` on one line, never quoting the value.
 */
export function readWalletSignerEnv(env: Readonly<Record<string, string | undefined>>): WalletSignerEnv {
  const kind = env.WALLET_SIGNER?.trim() || 'local'
  if (kind === 'local') return { walletSigner: 'local' }
  if (kind !== 'privy') throw new ConfigError('WALLET_SIGNER: must be local or privy')
  const appId = env.PRIVY_APP_ID?.trim() ?? ''
  const appSecret = env.PRIVY_APP_SECRET?.trim() ?? ''
  if (!appId) throw new ConfigError('PRIVY_APP_ID: must be set with WALLET_SIGNER=privy (the app id from the Privy dashboard)')
  if (!appSecret) throw new ConfigError('PRIVY_APP_SECRET: must be set with WALLET_SIGNER=privy (the app secret from the Privy dashboard)')
  const authorizationKeys = setting('PRIVY_AUTHORIZATION_KEYS', () => parseAuthorizationKeys(env.PRIVY_AUTHORIZATION_KEYS ?? ''))
  if (authorizationKeys.length === 0) {
    throw new ConfigError("PRIVY_AUTHORIZATION_KEYS: must be set with WALLET_SIGNER=privy (the session signer's wallet-auth: private key(s), comma-separated)")
  }
  const api = setting('PRIVY_API_URL', () => new PrivyApi({ appId, appSecret, apiUrl: env.PRIVY_API_URL?.trim() || DEFAULT_PRIVY_API_URL }))
  return { walletSigner: 'privy', api, authorizationKeys }
}

/** Privy's own check of `variable`'s value (PRIVY.CONFIG) as a ConfigError naming it: what is wrong, then the rule. */
function setting<T>(variable: string, read: () => T): T {
  try {
    return read()
  } catch (error) {
    if (!(error instanceof PrivyError && error.code === 'PRIVY.CONFIG')) throw error
    const problem = error.shortMessage.replace(/^Privy configuration: /, '')
    throw new ConfigError(`${variable}: ${problem}${error.hint ? `; ${error.hint}` : ''}`)
  }
}
