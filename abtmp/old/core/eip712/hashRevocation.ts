import type { Hex } from 'viem'
import { bytesToHex } from '../crypto/hex.js'
import { hashTypedStructBytes } from './hashTypedStruct.js'
import { type OperatorDomain, type RevocationMessage, eip712Types } from './types.js'

/** The EIP-712 digest of a Revocation (PROTOCOL.md §5), as bytes. */
export function hashRevocationBytes(domain: OperatorDomain, message: RevocationMessage): Uint8Array {
  return hashTypedStructBytes({ domain, types: eip712Types, primaryType: 'Revocation', message })
}

export function hashRevocation(domain: OperatorDomain, message: RevocationMessage): Hex {
  return bytesToHex(hashRevocationBytes(domain, message))
}
