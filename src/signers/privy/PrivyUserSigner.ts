import { authenticateWithJwt, type UserAuthorizationKey } from './authenticateWithJwt.js'
import type { PrivyApi, RequestAuthorizer } from './PrivyApi.js'

export type PrivyUserSignerOptions = {
  api: PrivyApi
  /** Returns a current JWT for the user (Privy access token or the app's custom-auth JWT). */
  userJwt: () => string | Promise<string>
  /** Refresh the user key this long before Privy's `expires_at`. Default 60 s. */
  refreshMarginMs?: number
}

/**
 * Signs requests as a user: exchanges the user's JWT for Privy's time-bound
 * user key, keeps it until shortly before it expires, and signs with it.
 * Concurrent callers share one exchange.
 */
export class PrivyUserSigner implements RequestAuthorizer {
  readonly #api: PrivyApi
  readonly #userJwt: () => string | Promise<string>
  readonly #refreshMarginMs: number
  #cached: UserAuthorizationKey | undefined
  #pending: Promise<UserAuthorizationKey> | undefined

  constructor(options: PrivyUserSignerOptions) {
    this.#api = options.api
    this.#userJwt = options.userJwt
    this.#refreshMarginMs = options.refreshMarginMs ?? 60_000
  }

  async signatures(payload: Uint8Array): Promise<string[]> {
    const { key } = await this.userKey()
    return [key.sign(payload)]
  }

  /** The cached user key, exchanged anew when missing or about to expire. */
  async userKey(): Promise<UserAuthorizationKey> {
    if (this.#cached && this.#api.now() < this.#cached.expiresAt - this.#refreshMarginMs) return this.#cached
    if (!this.#pending) {
      const pending = this.#exchange()
      this.#pending = pending
      const settle = () => {
        if (this.#pending === pending) this.#pending = undefined
      }
      pending.then(settle, settle)
    }
    return this.#pending
  }

  async #exchange(): Promise<UserAuthorizationKey> {
    const fresh = await authenticateWithJwt(this.#api, await this.#userJwt())
    this.#cached = fresh
    return fresh
  }

  invalidate(): void {
    this.#cached = undefined
  }

  toString(): string {
    return 'PrivyUserSigner(user key [redacted])'
  }
  toJSON(): { kind: string } {
    return { kind: 'privy-user-signer' }
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString()
  }
}
