import { TypedDataEncoder } from 'ethers'
import fc from 'fast-check'
import { type Address, hashTypedData } from 'viem'
import { describe, expect, it } from 'vitest'
import { delegationHash } from '../../src/core/delegation/delegationHash.js'
import { delegationTypedData } from '../../src/core/delegation/delegationTypedData.js'
import { type OperatorDomain, type PrimaryType, eip712Types, typesFor } from '../../src/core/eip712/types.js'
import { addressArb, signedDelegationArb } from './support/arbitraries.js'

/** The type strings of PROTOCOL.md §3–§6, copied from the document. */
const protocolTypeStrings: Record<PrimaryType, string> = {
  Delegation: 'Delegation(address wallet,bytes sessionPublicKey,string[] aclScope,uint64 expiry,uint64 nonce)',
  Order: 'Order(bytes32 delegation,address wallet,string market,uint8 side,uint256 price,uint256 size,uint8 timeInForce,bytes16 clientOrderId,uint64 nonce,uint64 deadline)',
  ModifyOrder: 'ModifyOrder(bytes32 delegation,address wallet,string market,bytes16 clientOrderId,uint256 price,uint256 size,uint64 nonce,uint64 deadline)',
  CancelOrder: 'CancelOrder(bytes32 delegation,address wallet,string market,bytes16 clientOrderId,uint64 nonce,uint64 deadline)',
  CancelAll: 'CancelAll(bytes32 delegation,address wallet,string market,uint64 nonce,uint64 deadline)',
  Read: 'Read(bytes32 delegation,uint64 deadline)',
  Revocation: 'Revocation(bytes32 delegation,uint64 deadline)',
}

/** Ethers field lists parsed from the protocol's type strings: independent of src/core/eip712/types.ts. */
function fieldsFromTypeString(typeString: string): { name: string; type: string }[] {
  const inner = /^\w+\((.*)\)$/.exec(typeString)![1]!
  return inner.split(',').map((field) => {
    const [type, name] = field.split(' ')
    return { name: name!, type: type! }
  })
}

const domainArb: fc.Arbitrary<OperatorDomain> = fc.record({
  name: fc.string({ maxLength: 30 }),
  version: fc.constant('1' as const),
  chainId: fc.integer({ min: 1, max: 2 ** 40 }),
  verifyingContract: addressArb as fc.Arbitrary<Address>,
})

describe('EIP-712 types', () => {
  it.each(Object.keys(protocolTypeStrings) as PrimaryType[])('%s encodes to the type string in PROTOCOL.md', (primaryType) => {
    const encoder = TypedDataEncoder.from({ [primaryType]: [...eip712Types[primaryType]] })
    expect(encoder.encodeType(primaryType)).toBe(protocolTypeStrings[primaryType])
  })

  it('typesFor returns exactly the one struct asked for', () => {
    expect(Object.keys(typesFor('Order'))).toEqual(['Order'])
    expect(typesFor('CancelAll').CancelAll).toBe(eip712Types.CancelAll)
  })
})

describe('delegationHash', () => {
  it('equals viem hashTypedData and ethers TypedDataEncoder.hash with the protocol types', () => {
    const types = { Delegation: fieldsFromTypeString(protocolTypeStrings.Delegation) }
    fc.assert(
      fc.property(domainArb, signedDelegationArb, (domain, { walletSignature: _, ...delegation }) => {
        const hash = delegationHash(domain, delegation)
        expect(hash).toMatch(/^0x[0-9a-f]{64}$/)
        expect(hash).toBe(hashTypedData({ domain, types, primaryType: 'Delegation', message: delegation }))
        expect(hash).toBe(TypedDataEncoder.hash(domain, types, delegation))
      }),
      { numRuns: 200 },
    )
  })

  it('changes with every field of the delegation and with the domain', () => {
    fc.assert(
      fc.property(domainArb, signedDelegationArb, (domain, { walletSignature: _, ...d }) => {
        const base = delegationHash(domain, d)
        expect(delegationHash(domain, { ...d, nonce: d.nonce ^ 1n })).not.toBe(base)
        expect(delegationHash(domain, { ...d, expiry: d.expiry ^ 1n })).not.toBe(base)
        expect(delegationHash(domain, { ...d, aclScope: d.aclScope[0] === 'Unrestricted' ? ['Order'] : ['Unrestricted'] })).not.toBe(base)
        expect(delegationHash({ ...domain, chainId: domain.chainId + 1 }, d)).not.toBe(base)
      }),
      { numRuns: 100 },
    )
  })

  it('delegationTypedData hands a signer the same typed data the hash covers', () => {
    fc.assert(
      fc.property(domainArb, signedDelegationArb, (domain, { walletSignature: _, ...d }) => {
        const typed = delegationTypedData(domain, d)
        expect(typed.primaryType).toBe('Delegation')
        expect(TypedDataEncoder.hash(typed.domain, { Delegation: [...typed.types.Delegation] }, typed.message)).toBe(delegationHash(domain, d))
      }),
      { numRuns: 100 },
    )
  })
})
