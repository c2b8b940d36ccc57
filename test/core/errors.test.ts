import { describe, expect, it } from 'vitest'
import { MalformedDelegationError } from '../../src/core/delegation/assertDelegationShape.js'
import { BaseError } from '../../src/core/errors/BaseError.js'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { type VenueErrorOutcome, classifyVenueError } from '../../src/core/errors/classifyVenueError.js'
import { VenueError, type VenueErrorCode, VenueTransportError, isVenueErrorCode, venueCodeOf, venueErrorCodes } from '../../src/core/errors/venue.js'

/** PROTOCOL.md §5 plus the intended handling, written out independently of the code. */
const expected: Record<VenueErrorCode, { code: string; status: number; retryable: boolean; outcome: VenueErrorOutcome; hint: RegExp[] }> = {
  InvalidRequest: { code: 'VENUE.INVALID_REQUEST', status: 400, retryable: false, outcome: 'terminal', hint: [/tickSize/, /lotSize/, /deadline/, /maxDeadlineMs/] },
  SessionUnauthorized: { code: 'VENUE.SESSION_UNAUTHORIZED', status: 401, retryable: false, outcome: 'sessionInvalid', hint: [/expiry/, /payload bytes/, /wallet signature/, /revoked/] },
  SignerMismatch: { code: 'VENUE.SIGNER_MISMATCH', status: 401, retryable: false, outcome: 'signerMismatch', hint: [/session_public_key/, /actually signed/] },
  SessionAclViolation: { code: 'VENUE.SESSION_ACL_VIOLATION', status: 403, retryable: false, outcome: 'aclViolation', hint: [/scope mapping/, /aclScope/, /Unrestricted/] },
  NonceReused: { code: 'VENUE.NONCE_REUSED', status: 409, retryable: true, outcome: 'resign', hint: [/fresh nonce/] },
  DeadlineExpired: { code: 'VENUE.DEADLINE_EXPIRED', status: 410, retryable: true, outcome: 'resign', hint: [/serverTime/, /fresh deadline/] },
  UnknownOrder: { code: 'VENUE.UNKNOWN_ORDER', status: 404, retryable: false, outcome: 'notOpen', hint: [/clientOrderId/, /not open/] },
  InsufficientBalance: { code: 'VENUE.INSUFFICIENT_BALANCE', status: 422, retryable: false, outcome: 'terminal', hint: [/balance/] },
  PostOnlyWouldCross: { code: 'VENUE.POST_ONLY_WOULD_CROSS', status: 422, retryable: false, outcome: 'terminal', hint: [/post-only/] },
  RateLimited: { code: 'VENUE.RATE_LIMITED', status: 429, retryable: true, outcome: 'rateLimited', hint: [/Retry-After/] },
  Unavailable: { code: 'VENUE.UNAVAILABLE', status: 503, retryable: true, outcome: 'transient', hint: [/retry/] },
}

describe('VenueError', () => {
  it('knows exactly the protocol error codes', () => {
    expect([...venueErrorCodes].sort()).toEqual(Object.keys(expected).sort())
    expect(isVenueErrorCode('NonceReused')).toBe(true)
    expect(isVenueErrorCode('nonceReused')).toBe(false)
    expect(isVenueErrorCode(undefined)).toBe(false)
  })

  it.each(Object.keys(expected) as VenueErrorCode[])('%s carries its code, status, retryability and a hint saying what to check', (venueCode) => {
    const spec = expected[venueCode]
    const error = new VenueError(venueCode, 'operator said no')
    expect(error).toBeInstanceOf(BaseError)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('VenueError')
    expect(error.venueCode).toBe(venueCode)
    expect(error.code).toBe(spec.code)
    expect(error.status).toBe(spec.status)
    expect(error.retryable).toBe(spec.retryable)
    for (const pattern of spec.hint) expect(error.hint).toMatch(pattern)
    expect(error.shortMessage).toBe(`${venueCode}: operator said no`)
    expect(error.message).toContain('operator said no')
    expect(error.message).toContain(`Check: ${error.hint}`)
    expect(venueCodeOf(spec.code)).toBe(venueCode)
  })

  it('takes a status, Retry-After and cause from the response', () => {
    const cause = new Error('socket')
    const error = new VenueError('RateLimited', 'slow down', { retryAfterMs: 2000, status: 429, cause })
    expect(error.retryAfterMs).toBe(2000)
    expect(error.cause).toBe(cause)
    expect(new VenueError('Unavailable', 'x', { status: 502 }).status).toBe(502)
    expect(new VenueError('Unavailable', 'x').retryAfterMs).toBeUndefined()
  })

  it('serialises its venue code, status and Retry-After, and no cause', () => {
    const error = new VenueError('RateLimited', 'slow down', { retryAfterMs: 1500, cause: new Error('secret stack') })
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'VenueError', code: 'VENUE.RATE_LIMITED', message: 'RateLimited: slow down', retryable: true,
      venueCode: 'RateLimited', status: 429, retryAfterMs: 1500,
    })
  })

  it('VenueTransportError is retryable with an unknown outcome', () => {
    const error = new VenueTransportError('socket hang up', { cause: new Error('ECONNRESET') })
    expect(error.name).toBe('VenueTransportError')
    expect(error.code).toBe('VENUE.TRANSPORT')
    expect(error.retryable).toBe(true)
    expect(error.hint).toMatch(/same signed bytes|clientOrderId/)
  })
})

describe('classifyVenueError', () => {
  it.each(Object.keys(expected) as VenueErrorCode[])('maps %s the same from an instance, a plain object and a JSON round trip', (venueCode) => {
    const outcome = expected[venueCode].outcome
    const error = new VenueError(venueCode, 'no')
    expect(classifyVenueError(error)).toBe(outcome)
    expect(classifyVenueError({ name: 'VenueError', venueCode, code: expected[venueCode].code })).toBe(outcome)
    expect(classifyVenueError(JSON.parse(JSON.stringify(error)) as object)).toBe(outcome)
    // A serialiser that keeps only BaseError's fields still carries `code`.
    expect(classifyVenueError(BaseError.prototype.toJSON.call(error))).toBe(outcome)
  })

  it('maps a transport error to unknownOutcome, by instance, name or code', () => {
    expect(classifyVenueError(new VenueTransportError('timeout'))).toBe('unknownOutcome')
    expect(classifyVenueError({ name: 'VenueTransportError' })).toBe('unknownOutcome')
    expect(classifyVenueError({ code: 'VENUE.TRANSPORT' })).toBe('unknownOutcome')
    expect(classifyVenueError(JSON.parse(JSON.stringify(new VenueTransportError('timeout'))) as object)).toBe('unknownOutcome')
  })

  it('retries anything else with the same bytes: an unknown operator code, or a local failure while reading the answer', () => {
    // Resending identical signed bytes is idempotent; calling these terminal could drop an accepted order.
    expect(classifyVenueError({ name: 'VenueError', venueCode: 'Teapot' })).toBe('transient')
    expect(classifyVenueError({ code: 'VENUE.SOMETHING_NEW' })).toBe('transient')
    expect(classifyVenueError(new ValidationError('receipt.seq', 'must be a decimal string'))).toBe('transient')
    expect(classifyVenueError(new MalformedDelegationError(['payload: odd number of hex digits']))).toBe('transient')
    expect(classifyVenueError(new Error('boom'))).toBe('transient')
    expect(classifyVenueError({})).toBe('transient')
  })
})

describe('BaseError', () => {
  it('toJSON carries name, code, short message and retryability, never the cause or a stack', () => {
    const cause = new Error('db password=hunter2')
    const error = new BaseError('could not save', { code: 'STORE.WRITE', retryable: true, hint: 'the database', details: 'row 7', cause })
    expect(error.cause).toBe(cause)
    expect(error.message).toBe('could not save\nCheck: the database\nDetails: row 7')
    expect(error.toJSON()).toEqual({ name: 'DeputyError', code: 'STORE.WRITE', message: 'could not save', retryable: true })
    const json = JSON.stringify(error)
    expect(json).not.toContain('hunter2')
    expect(json).not.toContain('stack')
    expect(json).not.toContain('cause')
  })

  it('defaults to not retryable and leaves cause unset when none is given', () => {
    const error = new BaseError('x', { code: 'CORE.X' })
    expect(error.retryable).toBe(false)
    expect('cause' in error).toBe(false)
    expect(error.message).toBe('x')
  })
})

describe('ValidationError', () => {
  it('names the field and the rule', () => {
    const error = new ValidationError('price', 'must be greater than zero', 'got 0')
    expect(error).toBeInstanceOf(BaseError)
    expect(error.name).toBe('ValidationError')
    expect(error.field).toBe('price')
    expect(error.rule).toBe('must be greater than zero')
    expect(error.code).toBe('CORE.VALIDATION')
    expect(error.retryable).toBe(false)
    expect(error.shortMessage).toBe('price: must be greater than zero')
    expect(error.message).toBe('price: must be greater than zero\nDetails: got 0')
    expect(error.toJSON()).toEqual({ name: 'ValidationError', code: 'CORE.VALIDATION', message: 'price: must be greater than zero', retryable: false })
  })
})
