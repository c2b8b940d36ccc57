import type { Hex } from 'viem'
import { bytesToHex } from '../crypto/hex.js'
import { keccak256 } from '../crypto/keccak256.js'
import { type TypedDataDomainFields, domainSeparatorBytes } from './domainSeparator.js'
import { type StructTypes, structHasher } from './hashStruct.js'

export type HashTypedStructParameters = {
  domain: TypedDataDomainFields
  /** Struct definitions; `EIP712Domain` is derived from `domain` and must not be among them. */
  types: StructTypes
  primaryType: string
  message: unknown
}

/**
 * The EIP-712 digest `keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message))`,
 * byte for byte viem's `hashTypedData`, encoded by hand with the type hashes
 * and the domain separator cached. Throws ValidationError on a malformed field.
 */
export function hashTypedStructBytes({ domain, types, primaryType, message }: HashTypedStructParameters): Uint8Array {
  const prefixed = new Uint8Array(66)
  prefixed[0] = 0x19
  prefixed[1] = 0x01
  prefixed.set(domainSeparatorBytes(domain), 2)
  structHasher(types, primaryType)(message, prefixed, 34)
  return keccak256(prefixed)
}

export function hashTypedStruct(parameters: HashTypedStructParameters): Hex {
  return bytesToHex(hashTypedStructBytes(parameters))
}
