import { getAddress, getTypesForEIP712Domain } from 'viem'
import type { DelegationTypedData } from '../../core/delegation/delegationTypedData.js'
import type { RevocationTypedData } from '../../core/delegation/revocationTypedData.js'

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** `params.typed_data` of an `eth_signTypedData_v4` wallet RPC (Privy's snake_case `primary_type`). */
export type PrivyTypedData = {
  domain: { [key: string]: JsonValue }
  types: { [type: string]: { name: string; type: string }[] }
  message: { [key: string]: JsonValue }
  primary_type: string
}

/** bigint → decimal string, recursively; JSON has no bigint and Privy accepts decimal strings for uint. */
function toJson(value: unknown): JsonValue {
  if (typeof value === 'bigint') return value.toString(10)
  if (Array.isArray(value)) return value.map(toJson)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toJson(v)]))
  }
  return value as JsonValue
}

/**
 * The Delegation (or a Revocation) as Privy's typed-data input. `EIP712Domain` is spelled out
 * (as in Privy's API reference) in viem's order, so Privy hashes exactly the
 * domain viem hashes when Deputy recovers the signature.
 */
export function toPrivyTypedData(typedData: DelegationTypedData | RevocationTypedData): PrivyTypedData {
  const types = {
    EIP712Domain: getTypesForEIP712Domain({ domain: typedData.domain }).map(({ name, type }) => ({ name, type })),
    ...Object.fromEntries(Object.entries(typedData.types as Record<string, readonly { name: string; type: string }[]>).map(([name, fields]) => [name, fields.map(({ name, type }) => ({ name, type }))])),
  }
  // Addresses in checksum case, as the policy states them, in case Privy compares
  // condition values as strings (the EIP-712 hash does not depend on case).
  const domain = { ...typedData.domain, verifyingContract: getAddress(typedData.domain.verifyingContract) }
  const message = 'wallet' in typedData.message ? { ...typedData.message, wallet: getAddress(typedData.message.wallet) } : typedData.message
  return {
    domain: toJson(domain) as PrivyTypedData['domain'],
    types,
    message: toJson(message) as PrivyTypedData['message'],
    primary_type: typedData.primaryType,
  }
}
