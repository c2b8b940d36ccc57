import type { Hex } from 'viem'
import { bytesToHex } from '../crypto/hex.js'
import { hashTypedStructBytes } from './hashTypedStruct.js'
import { type DelegationMessage, type OperatorDomain, eip712Types } from './types.js'

/** The EIP-712 digest of a Delegation (the delegation hash, PROTOCOL.md §3), as bytes. */
export function hashDelegationBytes(domain: OperatorDomain, message: DelegationMessage): Uint8Array {
  return hashTypedStructBytes({ domain, types: eip712Types, primaryType: 'Delegation', message })
}

export function hashDelegation(domain: OperatorDomain, message: DelegationMessage): Hex {
  return bytesToHex(hashDelegationBytes(domain, message))
}
