import { PrivyError, type PrivyErrorCode } from './errors.js'

type Outcome = { code: PrivyErrorCode; retryable: boolean; hint: string }

/**
 * Privy's documented error codes (docs.privy.io, "API errors"), each with what
 * an operator should check. Keyed by the `code` field of Privy's error body.
 */
const byPrivyCode: Record<string, Outcome> = {
  missing_or_empty_authorization_header: {
    code: 'PRIVY.MISSING_AUTHORIZATION_SIGNATURE',
    retryable: false,
    hint: 'PRIVY_AUTHORIZATION_KEYS is empty or no user signer is configured; the wallet requires a privy-authorization-signature.',
  },
  zero_correct_authorization_signatures: {
    code: 'PRIVY.ZERO_CORRECT_SIGNATURES',
    retryable: false,
    hint: "none of PRIVY_AUTHORIZATION_KEYS belongs to the wallet's owner or session signer (was the signer removed by the user?), or PRIVY_API_URL differs from the URL Privy sees (it is part of the signed payload).",
  },
  insufficient_correct_authorization_signatures: {
    code: 'PRIVY.INSUFFICIENT_SIGNATURES',
    retryable: false,
    hint: "the signer is a key quorum whose threshold is higher than the number of its keys in PRIVY_AUTHORIZATION_KEYS; add the missing quorum members' keys.",
  },
  incorrect_quantity_of_authorization_signatures: {
    code: 'PRIVY.INCORRECT_SIGNATURE_COUNT',
    retryable: false,
    hint: "the signatures do not match the quorum: PRIVY_AUTHORIZATION_KEYS must hold only keys of the signer's key quorum (a key left over from a rotation, or another quorum's, makes Privy refuse every request), at least its authorization_threshold of them.",
  },
  no_valid_user_session_keys: {
    code: 'PRIVY.USER_KEY_EXPIRED',
    retryable: true,
    hint: "the user's signing key is missing or expired; a new user JWT exchange is needed (the cached key was dropped).",
  },
  user_session_keys_expired: {
    code: 'PRIVY.USER_KEY_EXPIRED',
    retryable: true,
    hint: "the user's signing key expired; a new user JWT exchange is needed (the cached key was dropped).",
  },
  policy_violation: {
    code: 'PRIVY.POLICY_VIOLATION',
    retryable: false,
    hint: "the wallet's policy refused the request: the domain's chainId and verifyingContract must match the installed Deputy policy (docs/privy.md) and the primary type must be Delegation.",
  },
  request_expired: {
    code: 'PRIVY.REQUEST_EXPIRED',
    retryable: false,
    hint: "privy-request-expiry had passed when Privy received the request: check this host's clock (NTP) and the request expiry window.",
  },
  invalid_data: {
    code: 'PRIVY.INVALID_DATA',
    retryable: false,
    hint: 'Privy refused the request body: check the typed data (domain, types, primary type) and the wallet id.',
  },
}

export type PrivyResponseFailure = {
  /** What was being done, for the message (`eth_signTypedData_v4`, `authenticate`, …). */
  operation: string
  status: number
  /** The parsed JSON body, if any. */
  body: unknown
  retryAfterMs?: number
}

function readBody(body: unknown): { privyCode: string | undefined; message: string | undefined } {
  if (typeof body !== 'object' || body === null) return { privyCode: undefined, message: undefined }
  const record = body as Record<string, unknown>
  const nested = typeof record.error === 'object' && record.error !== null ? (record.error as Record<string, unknown>) : undefined
  const code = [record.code, nested?.code].find((candidate) => typeof candidate === 'string') as string | undefined
  const message = [record.error, record.message, nested?.message].find((candidate) => typeof candidate === 'string') as string | undefined
  return { privyCode: code, message: message?.slice(0, 300) }
}

function byStatus(status: number, operation: string): Outcome {
  if (status === 401 && operation === 'authenticate') {
    return { code: 'PRIVY.USER_JWT_REJECTED', retryable: false, hint: "the user's JWT is invalid or expired, or the app's JWT verification settings do not accept it; get a fresh JWT from the user." }
  }
  if (status === 401) {
    return { code: 'PRIVY.APP_AUTH_FAILED', retryable: false, hint: 'PRIVY_APP_ID and PRIVY_APP_SECRET (basic auth) must belong to the same Privy app.' }
  }
  if (status === 403) return { code: 'PRIVY.FORBIDDEN', retryable: false, hint: 'the app may not act on this resource: check the wallet belongs to PRIVY_APP_ID.' }
  if (status === 404) return { code: 'PRIVY.NOT_FOUND', retryable: false, hint: 'the wallet or user id is unknown to this Privy app: check the stored Privy wallet id and PRIVY_APP_ID.' }
  if (status === 408) return { code: 'PRIVY.UNAVAILABLE', retryable: true, hint: 'Privy, or a proxy in front of it, timed out on the request; a request Privy deduplicates is sent again here with the same idempotency key.' }
  if (status === 409) {
    return { code: 'PRIVY.CONFLICT', retryable: true, hint: 'Privy was still processing a request with the same idempotency key (an attempt that timed out here); it is sent again with that key, and answers the first outcome once it is done.' }
  }
  if (status === 429) return { code: 'PRIVY.RATE_LIMITED', retryable: true, hint: "Privy's rate limit was hit: lower concurrency of signing jobs; the job will retry." }
  if (status >= 500) return { code: 'PRIVY.UNAVAILABLE', retryable: true, hint: 'Privy answered with a server error; status.privy.io. A request Privy deduplicates is sent again here with the same idempotency key; a grant that still fails is tried again by session maintenance, as a new grant.' }
  if (status === 400 || status === 422) return byPrivyCode.invalid_data!
  return { code: 'PRIVY.REQUEST_REJECTED', retryable: false, hint: `Privy refused the request with HTTP ${status}: see details.` }
}

/** Maps one failed Privy answer to the error the signer throws (pure; one place for all codes). */
export function privyErrorFromResponse(failure: PrivyResponseFailure): PrivyError {
  const { privyCode, message } = readBody(failure.body)
  // Own keys only: a code such as "constructor" must not find Object.prototype's.
  const outcome = (privyCode !== undefined && Object.hasOwn(byPrivyCode, privyCode) ? byPrivyCode[privyCode] : undefined) ?? byStatus(failure.status, failure.operation)
  return new PrivyError(`Privy refused ${failure.operation} (HTTP ${failure.status}${privyCode ? `, ${privyCode}` : ''})`, {
    ...outcome,
    // A server-side failure keeps its retryability whatever code accompanies it.
    retryable: outcome.retryable || failure.status === 429 || failure.status >= 500,
    details: message,
    status: failure.status,
    privyCode,
    retryAfterMs: failure.retryAfterMs,
  })
}
