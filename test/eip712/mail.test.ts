import { describe, expect, it } from 'vitest'
import { domainSeparator as viemDomainSeparator, hashTypedData } from 'viem'
import { bytesToHex } from '../../src/core/crypto/hex.js'
import { domainSeparator } from '../../src/core/eip712/domainSeparator.js'
import { encodeType, hashStruct } from '../../src/core/eip712/hashStruct.js'
import { hashTypedStruct } from '../../src/core/eip712/hashTypedStruct.js'

// The example of EIP-712 itself (its test vector, with the published hashes).
const domain = {
  name: 'Ether Mail',
  version: '1',
  chainId: 1,
  verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC',
} as const
const types = {
  Person: [
    { name: 'name', type: 'string' },
    { name: 'wallet', type: 'address' },
  ],
  Mail: [
    { name: 'from', type: 'Person' },
    { name: 'to', type: 'Person' },
    { name: 'contents', type: 'string' },
  ],
} as const
const message = {
  from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
  to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
  contents: 'Hello, Bob!',
} as const

describe('EIP-712 specification example (Mail)', () => {
  it('encodes the Mail type with its Person dependency', () => {
    expect(encodeType(types, 'Mail')).toBe('Mail(Person from,Person to,string contents)Person(string name,address wallet)')
  })

  it('gives the published domain separator', () => {
    expect(domainSeparator(domain)).toBe('0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f')
  })

  it('gives the published Mail struct hash', () => {
    expect(bytesToHex(hashStruct(types, 'Mail', message))).toBe('0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e')
  })

  it('gives the published digest, as viem does', () => {
    const digest = hashTypedStruct({ domain, types, primaryType: 'Mail', message })
    expect(digest).toBe('0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2')
    expect(hashTypedData({ domain, types, primaryType: 'Mail', message })).toBe(digest)
  })
})

describe('the generic struct hasher beyond the Mail example', () => {
  it('matches viem for struct arrays, atomic arrays, bool, signed ints and dynamic bytes', () => {
    const richTypes = {
      Person: [
        { name: 'name', type: 'string' },
        { name: 'wallets', type: 'address[]' },
      ],
      Mail: [
        { name: 'from', type: 'Person' },
        { name: 'to', type: 'Person[]' },
        { name: 'contents', type: 'string' },
        { name: 'amounts', type: 'uint256[]' },
        { name: 'urgent', type: 'bool' },
        { name: 'delta', type: 'int64' },
        { name: 'attachment', type: 'bytes' },
        { name: 'tags', type: 'string[]' },
      ],
    } as const
    const richMessage = {
      from: { name: 'Cow', wallets: ['0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826', '0xDeaDbeefdEAdbeefdEadbEEFdeadbeEFdEaDbeeF'] },
      to: [
        { name: 'Bob', wallets: ['0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB'] },
        { name: 'Alice', wallets: [] },
      ],
      contents: 'Hello, Bob! ünïcödé 🐄',
      amounts: [0n, 1n, (1n << 256n) - 1n],
      urgent: true,
      delta: -(1n << 63n),
      attachment: '0x00ff10',
      tags: ['a', '', 'ccc'],
    } as const
    const ours = hashTypedStruct({ domain, types: richTypes, primaryType: 'Mail', message: richMessage })
    expect(ours).toBe(hashTypedData({ domain, types: richTypes, primaryType: 'Mail', message: richMessage }))
    expect(hashTypedStruct({ domain, types: richTypes, primaryType: 'Mail', message: { ...richMessage, urgent: false, delta: -1n } }))
      .toBe(hashTypedData({ domain, types: richTypes, primaryType: 'Mail', message: { ...richMessage, urgent: false, delta: -1n } }))
  })

  it('matches viem for a domain with a salt and without a version', () => {
    const salted = { name: 'Salted', chainId: 10n, verifyingContract: domain.verifyingContract, salt: `0x${'ab'.repeat(32)}` } as const
    expect(domainSeparator(salted)).toBe(viemDomainSeparator({ domain: salted }))
  })
})

