import { type Hex, decodeAbiParameters, encodeAbiParameters, getAddress, isHex } from 'viem'
import type { AclAction } from '../acl/actions.js'
import { MalformedDelegationError, delegationProblems } from './assertDelegationShape.js'
import type { SignedDelegation } from './encodeDelegatedPayload.js'
import { delegatedPayloadAbi } from './payloadAbi.js'

/** Hard cap: a real payload is ~ 500 bytes; refuse to ABI-decode megabytes from the wire. */
const MAX_PAYLOAD_BYTES = 4096

/**
 * Decodes delegated payload bytes and checks their structure. Throws
 * MalformedDelegationError naming what is wrong; does not verify the signature.
 */
export function decodeDelegatedPayload(payload: unknown): SignedDelegation {
  if (typeof payload !== 'string' || !isHex(payload, { strict: true })) {
    throw new MalformedDelegationError(['payload: must be 0x-prefixed hex'])
  }
  if (payload.length % 2 !== 0) throw new MalformedDelegationError(['payload: odd number of hex digits'])
  const bytes = (payload.length - 2) / 2
  if (bytes > MAX_PAYLOAD_BYTES) throw new MalformedDelegationError([`payload: longer than ${MAX_PAYLOAD_BYTES} bytes`])
  if (bytes < 32 * 6) throw new MalformedDelegationError([`payload: ${bytes} bytes is shorter than the 6-word ABI head`])
  let decoded
  try {
    decoded = decodeAbiParameters(delegatedPayloadAbi, payload as Hex)
  } catch (cause) {
    throw new MalformedDelegationError(['payload: not abi.encode(address, bytes, string[], uint64, uint64, bytes)'], cause)
  }
  const [wallet, sessionPublicKey, aclScope, expiry, nonce, walletSignature] = decoded
  const delegation: SignedDelegation = {
    wallet: getAddress(wallet),
    sessionPublicKey: sessionPublicKey.toLowerCase() as Hex,
    aclScope: aclScope as readonly AclAction[],
    expiry,
    nonce,
    walletSignature: walletSignature.toLowerCase() as Hex,
  }
  const problems = delegationProblems(delegation)
  if (problems.length) throw new MalformedDelegationError(problems)
  // Non-canonical encodings (trailing bytes, odd offsets) would give one delegation several byte forms.
  const canonical = encodeAbiParameters(delegatedPayloadAbi, [wallet, sessionPublicKey, aclScope, expiry, nonce, walletSignature])
  const given = payload.toLowerCase()
  if (canonical.toLowerCase() !== given) {
    const trailing = given.startsWith(canonical.toLowerCase()) ? ` (${(given.length - canonical.length) / 2} trailing bytes)` : ''
    throw new MalformedDelegationError([`payload: not the canonical ABI encoding${trailing}`])
  }
  return delegation
}
