import { type VenueErrorCode, isVenueErrorCode, venueCodeOf } from './venue.js'

/**
 * What a job does with an operator error, decided in one place.
 * - `terminal`: business rejection or bad request; record the reason, never retry.
 * - `sessionInvalid`: stop using the session, mark it, rotate, retry on the new one.
 * - `aclViolation`: never retry; alert (our scope mapping is wrong).
 * - `signerMismatch`: key integrity alert; quarantine the session (once the operator's domain is
 *   confirmed unchanged: `deliver` reads it again first, as for `sessionInvalid`).
 * - `resign`: sign again with a fresh nonce / deadline, then send.
 * - `rateLimited`: hold that session's sends for Retry-After (other sessions go on), then resend the same bytes.
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

const outcomes: Record<VenueErrorCode, VenueErrorOutcome> = {
  InvalidRequest: 'terminal',
  SessionUnauthorized: 'sessionInvalid',
  SignerMismatch: 'signerMismatch',
  SessionAclViolation: 'aclViolation',
  NonceReused: 'resign',
  DeadlineExpired: 'resign',
  UnknownOrder: 'notOpen',
  InsufficientBalance: 'terminal',
  PostOnlyWouldCross: 'terminal',
  RateLimited: 'rateLimited',
  Unavailable: 'transient',
}

export type ClassifiableError = { name?: string; venueCode?: VenueErrorCode | string; code?: string }

/**
 * Works on plain objects (`{ name, venueCode, code }` after a process boundary),
 * not only on instances: reads `venueCode`, else maps a `VENUE.*` `code` back.
 * Anything else (an unknown operator code, a failure while reading a response)
 * is `transient`: resending the same signed bytes is idempotent (replay and cloid
 * rules), whereas calling it terminal could drop an order that was accepted.
 */
export function classifyVenueError(error: ClassifiableError): VenueErrorOutcome {
  if (error.name === 'VenueTransportError' || error.code === 'VENUE.TRANSPORT') return 'unknownOutcome'
  const venueCode = isVenueErrorCode(error.venueCode) ? error.venueCode : venueCodeOf(error.code)
  return venueCode ? outcomes[venueCode] : 'transient'
}
