import type { Hex } from 'viem'
import { bytesToHex } from '../crypto/hex.js'
import { hashTypedStructBytes } from './hashTypedStruct.js'
import { type OperatorDomain, type VenueRequest, eip712Types } from './types.js'

/** The EIP-712 digest a session key signs for a request (PROTOCOL.md §4), as bytes. */
export function hashRequestBytes(domain: OperatorDomain, request: VenueRequest): Uint8Array {
  return hashTypedStructBytes({ domain, types: eip712Types, primaryType: request.family, message: request.message })
}

/** Equal to viem's `hashTypedData` of the request's typed data. */
export function hashRequest(domain: OperatorDomain, request: VenueRequest): Hex {
  return bytesToHex(hashRequestBytes(domain, request))
}
