import { BaseError } from './BaseError.js'

/** Error codes of the operator protocol (PROTOCOL.md §5), in the order the operator checks them. */
export const venueErrorCodes = [
  'InvalidRequest',
  'SessionUnauthorized',
  'SignerMismatch',
  'SessionAclViolation',
  'NonceReused',
  'DeadlineExpired',
  'UnknownOrder',
  'InsufficientBalance',
  'PostOnlyWouldCross',
  'RateLimited',
  'Unavailable',
] as const
export type VenueErrorCode = (typeof venueErrorCodes)[number]

type VenueErrorSpec = { status: number; code: string; retryable: boolean; hint: string }

export const venueErrorSpecs: Record<VenueErrorCode, VenueErrorSpec> = {
  InvalidRequest: {
    status: 400, code: 'VENUE.INVALID_REQUEST', retryable: false,
    hint: 'the request schema and encoding, the market name, price/size against tickSize/lotSize, and that the deadline is within maxDeadlineMs',
  },
  SessionUnauthorized: {
    status: 401, code: 'VENUE.SESSION_UNAUTHORIZED', retryable: false,
    hint: 'the delegation expiry, the delegated payload bytes (abi.encode of wallet, sessionPublicKey, aclScope, expiry, nonce, walletSignature), and that the wallet signature was made over this operator\'s EIP-712 domain; a revoked delegation also answers this',
  },
  SignerMismatch: {
    status: 401, code: 'VENUE.SIGNER_MISMATCH', retryable: false,
    hint: 'the delegation\'s session_public_key against the key that actually signed the request: the stored session key may not be the one the wallet delegated to',
  },
  SessionAclViolation: {
    status: 403, code: 'VENUE.SESSION_ACL_VIOLATION', retryable: false,
    hint: 'the scope mapping: the request family must appear in the delegation\'s aclScope (Order, ModifyOrder, CancelOrder, CancelAll) or the scope must be ["Unrestricted"]',
  },
  NonceReused: {
    status: 409, code: 'VENUE.NONCE_REUSED', retryable: true,
    hint: 'nonces must be unique per session key and above the smallest of the 100 highest seen; re-sign with a fresh nonce',
  },
  DeadlineExpired: {
    status: 410, code: 'VENUE.DEADLINE_EXPIRED', retryable: true,
    hint: 'the clock against the operator\'s serverTime; re-sign with a fresh deadline',
  },
  UnknownOrder: {
    status: 404, code: 'VENUE.UNKNOWN_ORDER', retryable: false,
    hint: 'the clientOrderId: the order is not open (filled, cancelled, or never placed)',
  },
  InsufficientBalance: {
    status: 422, code: 'VENUE.INSUFFICIENT_BALANCE', retryable: false,
    hint: 'the wallet\'s available balance of the asset the order spends',
  },
  PostOnlyWouldCross: {
    status: 422, code: 'VENUE.POST_ONLY_WOULD_CROSS', retryable: false,
    hint: 'the limit price against the current bid/ask: a post-only order must rest',
  },
  RateLimited: {
    status: 429, code: 'VENUE.RATE_LIMITED', retryable: true,
    hint: 'the request rate per session key; wait for Retry-After',
  },
  Unavailable: {
    status: 503, code: 'VENUE.UNAVAILABLE', retryable: true,
    hint: 'the operator is busy or down; retry with backoff',
  },
}

export function isVenueErrorCode(value: unknown): value is VenueErrorCode {
  return typeof value === 'string' && (venueErrorCodes as readonly string[]).includes(value)
}

/** An error answered by the operator, typed by its protocol code. */
export class VenueError extends BaseError {
  override name = 'VenueError'
  readonly venueCode: VenueErrorCode
  readonly status: number
  /** Milliseconds to wait before retrying, from `Retry-After` (RateLimited only). */
  readonly retryAfterMs: number | undefined
  /** The operator's own message, without the code and hint this error's `message` adds to it. */
  readonly operatorMessage: string
  /**
   * The answer carried no protocol error code (a proxy's or load balancer's page, read as the code
   * its HTTP status stands for): not the operator's verdict on the request.
   */
  readonly withoutProtocolCode: boolean

  constructor(venueCode: VenueErrorCode, message: string, options: { status?: number; retryAfterMs?: number; cause?: unknown; withoutProtocolCode?: boolean } = {}) {
    const spec = venueErrorSpecs[venueCode]
    super(`${venueCode}: ${message}`, { code: spec.code, retryable: spec.retryable, hint: spec.hint, cause: options.cause })
    this.operatorMessage = message
    this.venueCode = venueCode
    this.status = options.status ?? spec.status
    this.retryAfterMs = options.retryAfterMs
    this.withoutProtocolCode = options.withoutProtocolCode ?? false
  }

  /** Carries `venueCode` across processes: `classifyVenueError` needs it (or `code`) on the other side. */
  override toJSON(): ReturnType<BaseError['toJSON']> & { venueCode: VenueErrorCode; status: number; retryAfterMs?: number } {
    return { ...super.toJSON(), venueCode: this.venueCode, status: this.status, ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }) }
  }
}

/** The protocol code behind a `VENUE.*` machine code, e.g. `VENUE.NONCE_REUSED` → `NonceReused`. */
export function venueCodeOf(code: unknown): VenueErrorCode | undefined {
  return venueErrorCodes.find((venueCode) => venueErrorSpecs[venueCode].code === code)
}

/**
 * The request may or may not have reached the operator (timeout, reset, lost
 * response). The outcome is unknown: resend the identical bytes or read by cloid.
 */
export class VenueTransportError extends BaseError {
  override name = 'VenueTransportError'
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, {
      code: 'VENUE.TRANSPORT', retryable: true, cause: options.cause,
      hint: 'the network path to the operator; the request may have taken effect, so resend the same signed bytes or read the order by clientOrderId',
    })
  }
}
