import { hashRequestBytes } from '../core/eip712/hashRequest.js'
import type { OperatorDomain, VenueRequest } from '../core/eip712/types.js'
import type { SessionKey } from './SessionKey.js'
import { type SignedDigest, signedDigest } from './signedDigest.js'

/** Signs a request (built with `buildRequest`) with the session key (PROTOCOL.md §4). */
export function signRequest(key: SessionKey, domain: OperatorDomain, request: VenueRequest): SignedDigest {
  return signedDigest(key, hashRequestBytes(domain, request))
}
