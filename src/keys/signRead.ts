import { hashReadBytes } from '../core/eip712/hashRead.js'
import type { OperatorDomain, ReadMessage } from '../core/eip712/types.js'
import type { SessionKey } from './SessionKey.js'
import { type SignedDigest, signedDigest } from './signedDigest.js'

/** The `x-read-signature` of an authenticated read (PROTOCOL.md §6). */
export function signRead(key: SessionKey, domain: OperatorDomain, message: ReadMessage): SignedDigest {
  return signedDigest(key, hashReadBytes(domain, message))
}
