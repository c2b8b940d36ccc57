import { createPublicKey, verify } from 'node:crypto'
import canonicalizeModule from 'canonicalize'

// Deliberately independent of src/signers/privy: the server rebuilds and
// verifies the payload its own way (node:crypto), so a bug in Deputy's signer
// cannot be mirrored here and pass unnoticed.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined

export type KeyQuorum = {
  id: string
  /** Base64 SPKI DER public keys. */
  publicKeys: string[]
  userIds: string[]
  threshold: number
}

export type UserKey = { userId: string; publicKey: string; expiresAt: number }

/** One way a request may be authorised: a quorum, and the policies that then bind it. */
export type Party = { quorum: KeyQuorum; policyIds: string[] }

export type AuthFailure = { status: number; code: string; message: string }

/** The bytes Privy verifies: rebuilt from the server's own base URL, the raw path, the parsed body and the Privy headers. */
export function rebuildSignedPayload(request: {
  method: string
  baseUrl: string
  path: string
  body: unknown
  headers: Record<string, string | undefined>
}): Buffer {
  const body = request.body
  const isEmptyObject = typeof body === 'object' && body !== null && Object.keys(body).length === 0
  const headers: Record<string, string> = { 'privy-app-id': request.headers['privy-app-id'] ?? '' }
  for (const name of ['privy-idempotency-key', 'privy-request-expiry']) {
    const value = request.headers[name]
    if (value !== undefined) headers[name] = value
  }
  const text = canonicalize({
    version: 1,
    method: request.method,
    url: `${request.baseUrl}${request.path}`,
    body: isEmptyObject ? '' : body,
    headers,
  })
  return Buffer.from(text ?? '', 'utf8')
}

function verifies(signature: string, payload: Buffer, publicKey: string): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' })
    return verify('sha256', payload, key, Buffer.from(signature, 'base64'))
  } catch {
    return false
  }
}

/**
 * Checks the comma-separated signatures against each party's quorum and
 * threshold. Returns the first party satisfied, or Privy's error.
 */
export function authorizeParties(input: {
  parties: Party[]
  signatureHeader: string | undefined
  payload: Buffer
  userKeys: UserKey[]
  now: number
}): { party: Party } | AuthFailure {
  const signatures = (input.signatureHeader ?? '').split(',').map((part) => part.trim()).filter((part) => part.length > 0)
  if (signatures.length === 0) {
    return { status: 401, code: 'missing_or_empty_authorization_header', message: 'Missing privy-authorization-signature header.' }
  }
  const signedBy = (publicKey: string) => signatures.some((signature) => verifies(signature, input.payload, publicKey))
  let anyCorrect = false
  let expiredUserKey = false
  for (const party of input.parties) {
    const { quorum } = party
    let satisfied = 0
    for (const publicKey of quorum.publicKeys) {
      if (signedBy(publicKey)) satisfied++
    }
    for (const userId of quorum.userIds) {
      const keys = input.userKeys.filter((key) => key.userId === userId && signedBy(key.publicKey))
      if (keys.some((key) => key.expiresAt > input.now)) satisfied++
      else if (keys.length > 0) expiredUserKey = true
    }
    if (satisfied > 0) anyCorrect = true
    if (satisfied >= quorum.threshold) {
      // Privy: "All signatures come from authorization keys in the key quorum for the wallet. If
      // any validation fails, the request is rejected" (docs.privy.io/controls/key-quorum/sign).
      const members = [...quorum.publicKeys, ...input.userKeys.filter((key) => quorum.userIds.includes(key.userId)).map((key) => key.publicKey)]
      const foreign = signatures.filter((signature) => !members.some((publicKey) => verifies(signature, input.payload, publicKey)))
      if (foreign.length === 0) return { party }
      return { status: 401, code: 'incorrect_quantity_of_authorization_signatures', message: `${foreign.length} of the ${signatures.length} signatures are not from keys of the wallet's key quorum.` }
    }
  }
  if (anyCorrect) {
    return { status: 401, code: 'insufficient_correct_authorization_signatures', message: 'Insufficient valid authorization signatures were provided to meet the threshold.' }
  }
  if (expiredUserKey) return { status: 401, code: 'user_session_keys_expired', message: 'User signing key is expired.' }
  return {
    status: 401,
    code: 'zero_correct_authorization_signatures',
    message: 'No valid authorization signatures were provided. Your payload may be malformed or your signing keys may be incorrect or expired.',
  }
}
