import type { Hex } from 'viem'
import type { OperatorDomain, VenueRequest } from '../core/eip712/types.js'
import { toWireRequest } from '../core/requests/wire.js'
import type { SessionKey } from './SessionKey.js'
import { signRequest } from './signRequest.js'

/** Signs a request with the session key and answers the exact JSON body to POST, delegated payload attached. */
export function signWireRequest(key: SessionKey, domain: OperatorDomain, request: VenueRequest, delegatedPayload: Hex): string {
  const { signature } = signRequest(key, domain, request)
  return JSON.stringify(toWireRequest(request, delegatedPayload, signature))
}
