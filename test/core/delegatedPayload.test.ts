import { AbiCoder } from 'ethers'
import fc from 'fast-check'
import { type Hex, getAddress } from 'viem'
import { describe, expect, it } from 'vitest'
import { MalformedDelegationError, assertDelegationShape } from '../../src/core/delegation/assertDelegationShape.js'
import { decodeDelegatedPayload } from '../../src/core/delegation/decodeDelegatedPayload.js'
import { type SignedDelegation, encodeDelegatedPayload } from '../../src/core/delegation/encodeDelegatedPayload.js'
import { hexBytes, signedDelegationArb, thrown } from './support/arbitraries.js'

/** PROTOCOL.md §3, spelled out for ethers. */
const PAYLOAD_TYPES = ['address', 'bytes', 'string[]', 'uint64', 'uint64', 'bytes']
const abi = AbiCoder.defaultAbiCoder()

const good: SignedDelegation = {
  wallet: getAddress('0x8ba1f109551bd432803012645ac136ddd64dba72'),
  sessionPublicKey: `0x02${'ab'.repeat(32)}`,
  aclScope: ['Order', 'CancelOrder'],
  expiry: 1_900_000_000n,
  nonce: 7n,
  walletSignature: `0x${'11'.repeat(64)}1b`,
}

/** Encodes with ethers, bypassing our encoder's checks, so malformed delegations can be built. */
function ethersPayload(fields: Partial<Record<keyof SignedDelegation, unknown>>, types = PAYLOAD_TYPES): Hex {
  const d = { ...good, ...fields }
  return abi.encode(types, [d.wallet, d.sessionPublicKey, d.aclScope, d.expiry, d.nonce, d.walletSignature]) as Hex
}

function malformed(payload: unknown): MalformedDelegationError {
  const error = thrown(() => decodeDelegatedPayload(payload))
  expect(error).toBeInstanceOf(MalformedDelegationError)
  const typed = error as MalformedDelegationError
  expect(typed.name).toBe('MalformedDelegationError')
  expect(typed.code).toBe('CORE.MALFORMED_DELEGATION')
  expect(typed.retryable).toBe(false)
  expect(typed.problems.length).toBeGreaterThan(0)
  for (const problem of typed.problems) expect(typed.message).toContain(problem)
  return typed
}

function wordsOf(payload: Hex): string[] {
  return payload.slice(2).match(/.{64}/g)!
}

describe('encodeDelegatedPayload / decodeDelegatedPayload', () => {
  it('round-trips random delegations (wallet checksummed, hex lowercased)', () => {
    fc.assert(
      fc.property(signedDelegationArb, fc.boolean(), (delegation, upper) => {
        const input = upper
          ? { ...delegation, sessionPublicKey: `0x${delegation.sessionPublicKey.slice(2).toUpperCase()}` as Hex, walletSignature: `0x${delegation.walletSignature.slice(2).toUpperCase()}` as Hex }
          : delegation
        const decoded = decodeDelegatedPayload(encodeDelegatedPayload(input))
        expect(decoded).toEqual({ ...delegation, wallet: getAddress(delegation.wallet) })
      }),
      { numRuns: 300 },
    )
  })

  it('encodes byte for byte what ethers AbiCoder encodes', () => {
    fc.assert(
      fc.property(signedDelegationArb, (d) => {
        const expected = abi.encode(PAYLOAD_TYPES, [d.wallet, d.sessionPublicKey, d.aclScope, d.expiry, d.nonce, d.walletSignature])
        expect(encodeDelegatedPayload(d)).toBe(expected)
      }),
      { numRuns: 300 },
    )
  })

  it('refuses to encode a malformed delegation, listing every problem', () => {
    const error = thrown(() => encodeDelegatedPayload({ ...good, sessionPublicKey: `0x04${'ab'.repeat(32)}`, aclScope: ['CancelAll', 'Order'], expiry: 2n ** 64n, walletSignature: '0x1234' }))
    expect(error).toBeInstanceOf(MalformedDelegationError)
    const problems = (error as MalformedDelegationError).problems
    expect(problems.map((p) => p.split(':')[0])).toEqual(['sessionPublicKey', 'aclScope', 'expiry', 'walletSignature'])
  })

  it('refuses an odd number of hex digits in a key or signature instead of padding it into another value', () => {
    const oddKey = { ...good, sessionPublicKey: `0x02${'a'.repeat(63)}` as Hex }
    expect(thrown(() => encodeDelegatedPayload(oddKey))).toBeInstanceOf(MalformedDelegationError)
    expect(() => assertDelegationShape(oddKey)).toThrow(/sessionPublicKey: compressed SEC1 key must be 33 bytes of 0x-hex, got an odd number of hex digits \(65\)/)
    const oddSignature = { ...good, walletSignature: `0x${'2'.repeat(129)}` as Hex }
    expect(() => encodeDelegatedPayload(oddSignature)).toThrow(/walletSignature: r‖s‖v must be 65 bytes of 0x-hex, got an odd number/)
  })
})

describe('decodeDelegatedPayload errors', () => {
  const valid = encodeDelegatedPayload(good)

  it('decodes the fixture it is compared against', () => {
    expect(decodeDelegatedPayload(valid)).toEqual(good)
  })

  it.each([
    ['a non-string', 42],
    ['undefined', undefined],
    ['text', 'delegation'],
    ['hex without 0x', valid.slice(2)],
    ['non-hex digits', `0x${'zz'.repeat(200)}`],
  ])('rejects %s as not hex', (_, payload) => {
    expect(malformed(payload).problems).toEqual(['payload: must be 0x-prefixed hex'])
  })

  it('rejects an odd number of hex digits', () => {
    expect(malformed(`${valid}0`).problems).toEqual(['payload: odd number of hex digits'])
  })

  it('rejects a payload shorter than the ABI head', () => {
    expect(malformed('0x').problems).toEqual(['payload: 0 bytes is shorter than the 6-word ABI head'])
    expect(malformed(valid.slice(0, 2 + 191 * 2)).problems).toEqual(['payload: 191 bytes is shorter than the 6-word ABI head'])
  })

  it('rejects a truncated payload', () => {
    for (const cut of [32, 64, 128]) {
      expect(malformed(valid.slice(0, valid.length - cut * 2)).problems).toEqual(['payload: not abi.encode(address, bytes, string[], uint64, uint64, bytes)'])
    }
  })

  it('rejects trailing bytes as non-canonical, saying how many', () => {
    expect(malformed(`${valid}${'00'.repeat(32)}`).problems).toEqual(['payload: not the canonical ABI encoding (32 trailing bytes)'])
  })

  it('rejects dirty padding in the address word as non-canonical', () => {
    const words = wordsOf(valid)
    words[0] = `01${words[0]!.slice(2)}`
    expect(malformed(`0x${words.join('')}`).problems).toEqual(['payload: not the canonical ABI encoding'])
  })

  it('rejects an expiry or nonce above uint64, naming the field', () => {
    const types = ['address', 'bytes', 'string[]', 'uint256', 'uint256', 'bytes']
    expect(malformed(ethersPayload({ expiry: 2n ** 64n }, types)).problems).toEqual(['expiry: must be a uint64'])
    expect(malformed(ethersPayload({ nonce: 2n ** 255n }, types)).problems).toEqual(['nonce: must be a uint64'])
  })

  it('rejects a bad session key prefix or length', () => {
    expect(malformed(ethersPayload({ sessionPublicKey: `0x04${'ab'.repeat(32)}` })).problems).toEqual(['sessionPublicKey: a compressed SEC1 key starts 0x02 or 0x03, got 0x04'])
    expect(malformed(ethersPayload({ sessionPublicKey: `0x04${'ab'.repeat(64)}` })).problems).toEqual(['sessionPublicKey: compressed SEC1 key must be 33 bytes, got 65'])
    expect(malformed(ethersPayload({ sessionPublicKey: `0x02${'ab'.repeat(31)}` })).problems).toEqual(['sessionPublicKey: compressed SEC1 key must be 33 bytes, got 32'])
  })

  it('rejects a wallet signature that is not 65 bytes', () => {
    expect(malformed(ethersPayload({ walletSignature: `0x${'11'.repeat(64)}` })).problems).toEqual(['walletSignature: r‖s‖v must be 65 bytes, got 64'])
    expect(malformed(ethersPayload({ walletSignature: '0x' })).problems).toEqual(['walletSignature: r‖s‖v must be 65 bytes, got 0'])
  })

  it('rejects a non-canonical or unknown scope', () => {
    expect(malformed(ethersPayload({ aclScope: ['CancelOrder', 'Order'] })).problems).toEqual(['aclScope: must be in canonical order Order, ModifyOrder, CancelOrder, CancelAll'])
    expect(malformed(ethersPayload({ aclScope: [] })).problems).toEqual(['aclScope: must not be empty'])
    expect(malformed(ethersPayload({ aclScope: ['Order', 'Withdraw'] })).problems).toEqual(['aclScope: unknown action(s) "Withdraw"'])
  })

  it('lists every structural problem of one payload', () => {
    const problems = malformed(ethersPayload({ sessionPublicKey: '0x05', aclScope: ['Unrestricted', 'Order'], walletSignature: '0x00' })).problems
    expect(problems.map((p) => p.split(':')[0])).toEqual(['sessionPublicKey', 'aclScope', 'walletSignature'])
  })

  it('rejects an oversize payload before decoding it', () => {
    expect(malformed(`0x${'00'.repeat(4097)}`).problems).toEqual(['payload: longer than 4096 bytes'])
    const huge = ethersPayload({ aclScope: Array.from({ length: 200 }, () => 'Order') })
    expect(malformed(huge).problems).toEqual(['payload: longer than 4096 bytes'])
  })

  it('throws only MalformedDelegationError on random bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1200 }).chain((n) => hexBytes(n)), (payload) => {
        malformed(payload)
      }),
      { numRuns: 300 },
    )
  })

  it('after any one-byte corruption, either decodes to what re-encodes to the same bytes or throws MalformedDelegationError', () => {
    fc.assert(
      fc.property(signedDelegationArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (delegation, where, xor) => {
        const payload = encodeDelegatedPayload(delegation)
        const bytes = Buffer.from(payload.slice(2), 'hex')
        const index = where % bytes.length
        bytes[index] = bytes[index]! ^ xor
        const corrupted = `0x${bytes.toString('hex')}`
        let decoded: SignedDelegation
        try {
          decoded = decodeDelegatedPayload(corrupted)
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedDelegationError)
          return
        }
        expect(encodeDelegatedPayload(decoded)).toBe(corrupted)
      }),
      { numRuns: 300 },
    )
  })
})
