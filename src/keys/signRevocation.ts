import { hashRevocationBytes } from '../core/eip712/hashRevocation.js'
import type { OperatorDomain, RevocationMessage } from '../core/eip712/types.js'
import type { SessionKey } from './SessionKey.js'
import { type SignedDigest, signedDigest } from './signedDigest.js'

/** A Revocation signed by the session key itself (PROTOCOL.md §5, `POST /v1/sessions/revoke`). */
export function signRevocation(key: SessionKey, domain: OperatorDomain, message: RevocationMessage): SignedDigest {
  return signedDigest(key, hashRevocationBytes(domain, message))
}
