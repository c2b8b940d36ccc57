import type { VenueErrorCode } from './venue.js'

/**
 * What a job does with an operator error, decided in one place.
 * - `terminal`: business rejection or bad request; record the reason, never retry.
 * - `sessionInvalid`: stop using the session, mark it, rotate, retry on the new one.
 * - `aclViolation`: never retry; alert (our scope mapping is wrong).
 * - `signerMismatch`: key integrity alert; quarantine the session.
 * - `resign`: sign again with a fresh nonce / deadline, then send.
 * - `rateLimited`: pause the queue for Retry-After, then retry the same bytes.
 * - `transient`: retry the same bytes with backoff and jitter.
 * - `unknownOutcome`: the request may have taken effect; resend identical bytes or read by cloid.
 * - `notOpen`: Modify/Cancel of an order that is not open; resolve by reading it.
 */
export type VenueErrorOutcome =
  | 'terminal'
  | 'sessionInvalid'
  | 'aclViolation'
  | 'signerMismatch'
  | 'resign'
  | 'rateLimited'
  | 'transient'
  | 'unknownOutcome'
  | 'notOpen'

export function classifyVenueError(error: { name?: string; venueCode?: VenueErrorCode | string; code?: string }): VenueErrorOutcome {
  if (error.name === 'VenueTransportError' || error.code === 'VENUE.TRANSPORT') return 'unknownOutcome'
  switch (error.venueCode) {
    case 'SessionUnauthorized': return 'sessionInvalid'
    case 'SessionAclViolation': return 'aclViolation'
    case 'SignerMismatch': return 'signerMismatch'
    case 'NonceReused':
    case 'DeadlineExpired': return 'resign'
    case 'RateLimited': return 'rateLimited'
    case 'Unavailable': return 'transient'
    case 'UnknownOrder': return 'notOpen'
    case 'InvalidRequest':
    case 'InsufficientBalance':
    case 'PostOnlyWouldCross': return 'terminal'
    default: return 'transient'
  }
}
