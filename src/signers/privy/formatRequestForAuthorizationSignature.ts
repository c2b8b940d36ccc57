import canonicalizeModule from 'canonicalize'
import { privyConfigError } from './errors.js'

// canonicalize is CommonJS typed as an ES default export; under NodeNext the
// default import is the function at runtime, so only the type needs fixing.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined

/** The request Privy expects an authorization signature over (signature version 1). */
export type AuthorizationSignatureInput = {
  version: 1
  /** Privy requires no signature on GET. */
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** Full request URL, no trailing slash: `https://api.privy.io/v1/wallets/<id>/rpc`. */
  url: string
  /** The JSON body exactly as sent (after JSON round-trip: no bigint, no undefined). */
  body: unknown
  headers: {
    'privy-app-id': string
    'privy-idempotency-key'?: string
    /** Unix milliseconds, as the header's decimal string. */
    'privy-request-expiry'?: string
  }
}

/**
 * The RFC 8785 canonical JSON string of the signature payload, built as
 * @privy-io/node's `formatRequestForAuthorizationSignature` builds it:
 * - only the three Privy headers, each only when present (an `undefined` one is left out);
 * - an object body with no own keys (`{}`, and also `[]`) signs as the empty string `""`.
 * Unlike the SDK it never mutates its input.
 */
export function canonicalAuthorizationPayload(input: AuthorizationSignatureInput): string {
  const { body, headers } = input
  const signedBody = typeof body === 'object' && body !== null && Object.keys(body).length === 0 ? '' : body
  const payload = {
    version: input.version,
    method: input.method,
    url: input.url,
    body: signedBody,
    headers: {
      // canonicalize drops undefined members, exactly as JSON.stringify would.
      'privy-app-id': headers['privy-app-id'],
      'privy-idempotency-key': headers['privy-idempotency-key'],
      'privy-request-expiry': headers['privy-request-expiry'],
    },
  }
  const serialized = canonicalize(payload)
  if (serialized === undefined) throw privyConfigError('request body cannot be serialised to JSON', 'sign only plain JSON bodies')
  return serialized
}

/** The UTF-8 bytes that get signed (what the SDK hands to a `sign_fn`). */
export function formatRequestForAuthorizationSignature(input: AuthorizationSignatureInput): Uint8Array {
  return new TextEncoder().encode(canonicalAuthorizationPayload(input))
}
