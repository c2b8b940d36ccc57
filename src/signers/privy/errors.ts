import { BaseError } from '../../core/errors/BaseError.js'

/** Every code a Privy failure surfaces as. Jobs branch on these strings. */
export type PrivyErrorCode =
  | 'PRIVY.MISSING_AUTHORIZATION_SIGNATURE'
  | 'PRIVY.ZERO_CORRECT_SIGNATURES'
  | 'PRIVY.INSUFFICIENT_SIGNATURES'
  | 'PRIVY.INCORRECT_SIGNATURE_COUNT'
  | 'PRIVY.USER_KEY_EXPIRED'
  | 'PRIVY.POLICY_VIOLATION'
  | 'PRIVY.REQUEST_EXPIRED'
  | 'PRIVY.INVALID_DATA'
  | 'PRIVY.APP_AUTH_FAILED'
  | 'PRIVY.USER_JWT_REJECTED'
  | 'PRIVY.FORBIDDEN'
  | 'PRIVY.NOT_FOUND'
  | 'PRIVY.RATE_LIMITED'
  | 'PRIVY.UNAVAILABLE'
  | 'PRIVY.CONFLICT'
  | 'PRIVY.NETWORK'
  | 'PRIVY.REQUEST_REJECTED'
  | 'PRIVY.BAD_RESPONSE'
  | 'PRIVY.SIGNATURE_MISMATCH'
  | 'PRIVY.CONFIG'

export type PrivyErrorParameters = {
  code: PrivyErrorCode
  retryable: boolean
  hint: string
  details?: string
  cause?: unknown
  /** HTTP status Privy answered with, if it answered. */
  status?: number
  /** Privy's own error code (`policy_violation`, …), if it sent one. */
  privyCode?: string
  /** How long Privy asked us to wait (Retry-After), in ms. */
  retryAfterMs?: number
}

/**
 * A failure talking to Privy or in what it returned. Messages carry Privy's
 * error text and codes only: never the app secret, keys, JWTs or signatures.
 */
export class PrivyError extends BaseError {
  override name = 'PrivyError'
  declare readonly code: PrivyErrorCode
  readonly status: number | undefined
  readonly privyCode: string | undefined
  readonly retryAfterMs: number | undefined

  constructor(shortMessage: string, parameters: PrivyErrorParameters) {
    super(shortMessage, parameters)
    this.status = parameters.status
    this.privyCode = parameters.privyCode
    this.retryAfterMs = parameters.retryAfterMs
  }

  override toJSON(): { name: string; code: string; message: string; retryable: boolean; status?: number; privyCode?: string } {
    return {
      ...super.toJSON(),
      ...(this.status === undefined ? {} : { status: this.status }),
      ...(this.privyCode === undefined ? {} : { privyCode: this.privyCode }),
    }
  }
}

/** Bad operator configuration (keys, URLs, ids): fix the environment, never retry. */
export function privyConfigError(what: string, hint: string, cause?: unknown): PrivyError {
  return new PrivyError(`Privy configuration: ${what}`, { code: 'PRIVY.CONFIG', retryable: false, hint, cause })
}
