import type { Hex } from 'viem'
import { bytesToHex } from '../crypto/hex.js'
import { hashTypedStructBytes } from './hashTypedStruct.js'
import { type OperatorDomain, type ReadMessage, eip712Types } from './types.js'

/** The EIP-712 digest behind `x-read-signature` (PROTOCOL.md §6), as bytes. */
export function hashReadBytes(domain: OperatorDomain, message: ReadMessage): Uint8Array {
  return hashTypedStructBytes({ domain, types: eip712Types, primaryType: 'Read', message })
}

export function hashRead(domain: OperatorDomain, message: ReadMessage): Hex {
  return bytesToHex(hashReadBytes(domain, message))
}
