import type { Hex } from 'viem'
import { bytesToHex } from '../core/crypto/hex.js'
import type { SessionKey } from './SessionKey.js'

/** A digest and the session key's signature over it, both as the wire and the database carry them. */
export type SignedDigest = { digest: Hex; signature: Hex }

export function signedDigest(key: SessionKey, digest: Uint8Array): SignedDigest {
  return { digest: bytesToHex(digest), signature: bytesToHex(key.signDigestBytes(digest)) }
}
