import type { Address, Hex } from 'viem'
import { bytesToHex } from '../crypto/hex.js'
import { type StructTypes, type TypedField, hashStruct } from './hashStruct.js'

/** An EIP-712 domain; as in viem, a field is part of `EIP712Domain` when it is present (not null or undefined). */
export type TypedDataDomainFields = {
  name?: string | undefined
  version?: string | undefined
  chainId?: number | bigint | undefined
  verifyingContract?: Address | undefined
  salt?: Hex | undefined
}

const domainFields: readonly TypedField[] = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
  { name: 'salt', type: 'bytes32' },
]

/** One `{ EIP712Domain }` types object per set of present fields, so its compiled hasher is reused. */
const domainTypes = new Map<string, StructTypes>()

/** Separators by the domain's field values; a process talks to a handful of operators, the bound is a backstop. */
const separators = new Map<string, Uint8Array>()
const MAX_CACHED_DOMAINS = 64

/**
 * The last separator seen per domain object, with the field values it was
 * computed from: a caller passes the same domain object for every request, and
 * comparing five fields is much cheaper than building the string key. The
 * values are compared, so a mutated domain object is never served stale.
 */
type Remembered = TypedDataDomainFields & { separator: Uint8Array }
const byObject = new WeakMap<TypedDataDomainFields, Remembered>()

/**
 * The EIP-712 domain separator (`hashStruct(EIP712Domain, domain)`), computed
 * once per distinct domain. The returned bytes are shared: do not mutate them.
 */
export function domainSeparatorBytes(domain: TypedDataDomainFields): Uint8Array {
  const { name, version, chainId, verifyingContract, salt } = domain
  const remembered = byObject.get(domain)
  if (
    remembered && remembered.name === name && remembered.version === version && remembered.chainId === chainId &&
    remembered.verifyingContract === verifyingContract && remembered.salt === salt
  ) return remembered.separator
  const key = JSON.stringify([name, version, typeof chainId, chainId?.toString(), verifyingContract, salt])
  let separator = separators.get(key)
  if (!separator) {
    const present = domainFields.filter((field) => domain[field.name as keyof TypedDataDomainFields] != null)
    const shape = present.map((field) => field.name).join(',')
    let types = domainTypes.get(shape)
    if (!types) domainTypes.set(shape, (types = { EIP712Domain: present }))
    separator = hashStruct(types, 'EIP712Domain', domain)
    if (separators.size >= MAX_CACHED_DOMAINS) separators.clear()
    separators.set(key, separator)
  }
  byObject.set(domain, { name, version, chainId, verifyingContract, salt, separator })
  return separator
}

export function domainSeparator(domain: TypedDataDomainFields): Hex {
  return bytesToHex(domainSeparatorBytes(domain))
}
