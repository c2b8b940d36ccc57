import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashTypedData } from 'viem'
import { requestFamilies } from '../../src/core/acl/actions.js'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { hashDelegation } from '../../src/core/eip712/hashDelegation.js'
import { hashRead } from '../../src/core/eip712/hashRead.js'
import { hashRequest, hashRequestBytes } from '../../src/core/eip712/hashRequest.js'
import { hashRevocation } from '../../src/core/eip712/hashRevocation.js'
import { type OperatorDomain, type PrimaryType, type VenueRequest, typesFor } from '../../src/core/eip712/types.js'
import * as arb from './arbitraries.js'

const viemHash = (domain: OperatorDomain, primaryType: PrimaryType, message: object) =>
  hashTypedData({ domain, types: typesFor(primaryType), primaryType, message } as Parameters<typeof hashTypedData>[0])

const requestArbitraries = { Order: arb.order, ModifyOrder: arb.modifyOrder, CancelOrder: arb.cancelOrder, CancelAll: arb.cancelAll }
const numRuns = 300

describe('fast EIP-712 digest equals viem hashTypedData', () => {
  for (const family of requestFamilies) {
    it(`${family} requests`, () => {
      fc.assert(fc.property(arb.domain, requestArbitraries[family], (domain, message) => {
        const request = { family, message } as VenueRequest
        expect(hashRequest(domain, request)).toBe(viemHash(domain, family, message))
      }), { numRuns })
    })
  }

  it('Read', () => {
    fc.assert(fc.property(arb.domain, arb.read, (domain, message) => {
      expect(hashRead(domain, message)).toBe(viemHash(domain, 'Read', message))
    }), { numRuns })
  })

  it('Revocation', () => {
    fc.assert(fc.property(arb.domain, arb.revocation, (domain, message) => {
      expect(hashRevocation(domain, message)).toBe(viemHash(domain, 'Revocation', message))
    }), { numRuns })
  })

  it('Delegation', () => {
    fc.assert(fc.property(arb.domain, arb.delegation, (domain, message) => {
      expect(hashDelegation(domain, message)).toBe(viemHash(domain, 'Delegation', message))
    }), { numRuns })
  })

  it('a cached domain separator follows a change of any domain field', () => {
    fc.assert(fc.property(arb.domain, arb.domain, arb.read, (first, second, message) => {
      expect(hashRead(first, message)).toBe(viemHash(first, 'Read', message))
      expect(hashRead(second, message)).toBe(viemHash(second, 'Read', message))
      expect(hashRead({ ...first, chainId: first.chainId + 1 }, message)).toBe(viemHash({ ...first, chainId: first.chainId + 1 }, 'Read', message))
    }), { numRuns: 100 })
  })

  it('follows a change made to the same domain object', () => {
    const [message] = fc.sample(arb.read, 1)
    const domain: OperatorDomain = { name: 'Deputy', version: '1', chainId: 1, verifyingContract: '0x0000000000000000000000000000000000000001' }
    const changes: Partial<OperatorDomain>[] = [{ name: 'Other' }, { chainId: 2 }, { verifyingContract: '0x0000000000000000000000000000000000000002' }]
    for (const change of changes) {
      expect(hashRead(domain, message!)).toBe(viemHash(domain, 'Read', message!))
      Object.assign(domain, change)
      expect(hashRead(domain, message!)).toBe(viemHash(domain, 'Read', message!))
    }
  })

  it('returns fresh bytes each call (nothing per message is shared or cached)', () => {
    const [domain] = fc.sample(arb.domain, 1)
    const [message] = fc.sample(arb.cancelAll, 1)
    const request = { family: 'CancelAll', message } as VenueRequest
    const first = hashRequestBytes(domain!, request)
    first.fill(0)
    expect(hashRequest(domain!, request)).toBe(viemHash(domain!, 'CancelAll', message!))
  })
})

describe('fast EIP-712 digest refuses what it cannot encode', () => {
  const domain: OperatorDomain = { name: 'Deputy', version: '1', chainId: 1, verifyingContract: '0x0000000000000000000000000000000000000001' }
  const message = {
    delegation: `0x${'11'.repeat(32)}`, wallet: '0x00000000000000000000000000000000000000aa', market: 'ETH-USD', side: 0, price: 1n, size: 1n,
    timeInForce: 0, clientOrderId: `0x${'22'.repeat(16)}`, nonce: 1n, deadline: 1n,
  } as const
  // The last column: whether viem throws as well. Where it does not, viem would hash a coerced value
  // (a string uint as a number, 7 as the bytes 0x07, non-hex digits as garbage); refusing is the safe side.
  const cases: [string, Record<string, unknown>, boolean][] = [
    ['a uint64 above range', { nonce: 1n << 64n }, true],
    ['a negative uint', { price: -1n }, true],
    ['a uint8 above range', { side: 256 }, true],
    ['a fractional number', { side: 0.5 }, true],
    ['a short bytes32', { delegation: `0x${'11'.repeat(31)}` }, true],
    ['a long bytes16', { clientOrderId: `0x${'22'.repeat(17)}` }, true],
    ['a short address', { wallet: '0x00000000000000000000000000000000000000' }, true],
    ['a missing field', { deadline: undefined }, true],
    ['a string uint', { price: '1' }, false],
    ['non-hex bytes16', { clientOrderId: `0x${'zz'.repeat(16)}` }, false],
    ['a non-string market', { market: 7 }, false],
  ]
  for (const [what, change, viemThrows] of cases) {
    it(`throws ValidationError for ${what}`, () => {
      const bad = { ...message, ...change }
      expect(() => hashRequest(domain, { family: 'Order', message: bad } as unknown as VenueRequest)).toThrow(ValidationError)
      if (viemThrows) expect(() => viemHash(domain, 'Order', bad)).toThrow()
    })
  }
})
