import fc from 'fast-check'
import type { Address, Hex } from 'viem'
import { describe, expect, it } from 'vitest'
import type { RequestFamily } from '../../src/core/acl/actions.js'
import type { RequestMessages } from '../../src/core/eip712/types.js'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { buildRequest } from '../../src/core/requests/buildRequest.js'
import { toWireMessage, toWireRequest } from '../../src/core/requests/wire.js'
import { UINT64_MAX, addressArb, hexBytes, thrown, uint64Arb } from './support/arbitraries.js'

const UINT256_MAX = 2n ** 256n - 1n
const bound = {
  delegation: `0x${'ab'.repeat(32)}` as Hex,
  wallet: '0x8ba1f109551bD432803012645Ac136ddd64DBA72' as Address,
  nonce: 1_700_000_000_000_000n,
  deadline: 1_700_000_060_000n,
}
const cloid = `0x${'0f'.repeat(16)}` as Hex

const valid: RequestMessages = {
  Order: { ...bound, market: 'ETH-USD', side: 0, price: 2000n * 10n ** 18n, size: 10n ** 15n, timeInForce: 2, clientOrderId: cloid },
  ModifyOrder: { ...bound, market: 'ETH-USD', clientOrderId: cloid, price: 1999n * 10n ** 18n, size: 2n * 10n ** 15n },
  CancelOrder: { ...bound, market: 'BTC-USD', clientOrderId: cloid },
  CancelAll: { ...bound, market: 'ETH-USD' },
}

/** Field order of each struct in PROTOCOL.md §4. */
const protocolFields: Record<RequestFamily, string[]> = {
  Order: ['delegation', 'wallet', 'market', 'side', 'price', 'size', 'timeInForce', 'clientOrderId', 'nonce', 'deadline'],
  ModifyOrder: ['delegation', 'wallet', 'market', 'clientOrderId', 'price', 'size', 'nonce', 'deadline'],
  CancelOrder: ['delegation', 'wallet', 'market', 'clientOrderId', 'nonce', 'deadline'],
  CancelAll: ['delegation', 'wallet', 'market', 'nonce', 'deadline'],
}
const families = Object.keys(valid) as RequestFamily[]

const label = (patch: Record<string, unknown>): string =>
  Object.entries(patch).map(([key, value]) => `${key}=${typeof value === 'string' ? JSON.stringify(value) : String(value)}`).join(', ')

function rejects(family: RequestFamily, patch: Record<string, unknown>): ValidationError {
  const error = thrown(() => buildRequest(family, { ...valid[family], ...patch } as never))
  expect(error).toBeInstanceOf(ValidationError)
  return error as ValidationError
}

describe('buildRequest', () => {
  it.each(families)('builds a valid %s carrying exactly the struct fields in protocol order', (family) => {
    const request = buildRequest(family, valid[family])
    expect(request.family).toBe(family)
    expect(request.message).toEqual(valid[family])
    expect(Object.keys(request.message)).toEqual(protocolFields[family])
  })

  it('drops fields outside the struct: they would travel unsigned', () => {
    const request = buildRequest('CancelAll', { ...valid.CancelAll, price: 5n, extra: 'x' } as never)
    expect(Object.keys(request.message)).toEqual(protocolFields.CancelAll)
  })

  it('lowercases the clientOrderId and keeps every other field as given', () => {
    const upper = `0x${'AB'.repeat(16)}` as Hex
    for (const family of ['Order', 'ModifyOrder', 'CancelOrder'] as const) {
      const request = buildRequest(family, { ...valid[family], clientOrderId: upper } as never)
      expect((request.message as { clientOrderId: Hex }).clientOrderId).toBe(`0x${'ab'.repeat(16)}`)
      expect(request.message.wallet).toBe(bound.wallet)
    }
  })

  it('accepts "" for CancelAll (every market) but not for the other families', () => {
    expect(buildRequest('CancelAll', { ...valid.CancelAll, market: '' }).message.market).toBe('')
    for (const family of ['Order', 'ModifyOrder', 'CancelOrder'] as const) {
      const error = rejects(family, { market: '' })
      expect(error.field).toBe('market')
      expect(error.rule).toMatch(/non-empty/)
    }
    expect(rejects('CancelAll', { market: 'M'.repeat(65) }).field).toBe('market')
  })

  it('accepts the uint bounds', () => {
    const request = buildRequest('Order', { ...valid.Order, nonce: 0n, deadline: UINT64_MAX, price: UINT256_MAX, size: 1n, side: 1, timeInForce: 0 })
    expect(request.message).toMatchObject({ nonce: 0n, deadline: UINT64_MAX, price: UINT256_MAX })
  })

  const badBound: [string, Record<string, unknown>][] = [
    ['delegation', { delegation: `0x${'ab'.repeat(31)}` }],
    ['delegation', { delegation: `0x${'ab'.repeat(33)}` }],
    ['delegation', { delegation: `0x${'a'.repeat(63)}` }],
    ['delegation', { delegation: 'ab'.repeat(32) }],
    ['wallet', { wallet: '0x1234' }],
    ['wallet', { wallet: `0x${'zz'.repeat(20)}` }],
    ['wallet', { wallet: 42 }],
    ['nonce', { nonce: -1n }],
    ['nonce', { nonce: 2n ** 64n }],
    ['nonce', { nonce: 5 }],
    ['deadline', { deadline: -1n }],
    ['deadline', { deadline: 2n ** 64n }],
    ['deadline', { deadline: '1700000060000' }],
  ]
  it.each(families.flatMap((family) => badBound.map(([field, patch]) => [family, field, label(patch), patch] as const)))(
    '%s rejects a bad %s: %s',
    (family, field, _, patch) => {
      expect(rejects(family, patch).field).toBe(field)
    },
  )

  const badFields = [
    ['Order', 'side', { side: 2 }],
    ['Order', 'side', { side: -1 }],
    ['Order', 'side', { side: '0' }],
    ['Order', 'price', { price: 0n }],
    ['Order', 'price', { price: UINT256_MAX + 1n }],
    ['Order', 'size', { size: 0n }],
    ['Order', 'size', { size: 1 }],
    ['Order', 'timeInForce', { timeInForce: 3 }],
    ['Order', 'clientOrderId', { clientOrderId: `0x${'ab'.repeat(15)}` }],
    ['Order', 'clientOrderId', { clientOrderId: `0x${'ab'.repeat(17)}` }],
    ['Order', 'clientOrderId', { clientOrderId: `0x${'a'.repeat(31)}` }],
    ['Order', 'market', { market: 7 }],
    ['ModifyOrder', 'price', { price: 0n }],
    ['ModifyOrder', 'size', { size: 0n }],
    ['ModifyOrder', 'clientOrderId', { clientOrderId: `0x${'ab'.repeat(15)}` }],
    ['CancelOrder', 'clientOrderId', { clientOrderId: undefined }],
  ] as const
  it.each(badFields.map(([family, field, patch]) => [family, field, label(patch), patch] as const))('%s rejects a bad %s: %s', (family, field, _, patch) => {
    const error = rejects(family, patch)
    expect(error.field).toBe(field)
    expect(error.message.startsWith(`${field}: `)).toBe(true)
  })

  it('names the range in uint messages', () => {
    expect(rejects('Order', { nonce: -1n }).rule).toBe('must be a uint64 (0 to 2^64-1)')
    expect(rejects('Order', { price: 0n }).rule).toBe('must be a uint256 greater than zero')
    expect(rejects('Order', { size: 1 }).rule).toBe('must be a bigint uint256')
  })

  it('rejects an unknown family', () => {
    const error = thrown(() => buildRequest('Withdraw' as RequestFamily, valid.CancelAll as never))
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).field).toBe('family')
  })

  it('builds any in-range Order', () => {
    fc.assert(
      fc.property(
        fc.record({
          delegation: hexBytes(32), wallet: addressArb, market: fc.string({ minLength: 1, maxLength: 64 }),
          side: fc.constantFrom(0 as const, 1 as const), price: fc.bigInt({ min: 1n, max: UINT256_MAX }), size: fc.bigInt({ min: 1n, max: UINT256_MAX }),
          timeInForce: fc.constantFrom(0 as const, 1 as const, 2 as const), clientOrderId: hexBytes(16), nonce: uint64Arb, deadline: uint64Arb,
        }),
        (message) => {
          expect(buildRequest('Order', message).message).toEqual(message)
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('toWireRequest', () => {
  it('writes uints as decimal strings and keeps every other value', () => {
    const request = buildRequest('Order', { ...valid.Order, price: 2000500000000000000000n, nonce: UINT64_MAX })
    const signature = `0x${'cd'.repeat(65)}` as Hex
    const payload = `0x${'ef'.repeat(500)}` as Hex
    expect(toWireRequest(request, payload, signature)).toEqual({
      family: 'Order',
      delegation: payload,
      signature,
      message: {
        delegation: bound.delegation,
        wallet: bound.wallet,
        market: 'ETH-USD',
        side: '0',
        price: '2000500000000000000000',
        size: '1000000000000000',
        timeInForce: '2',
        clientOrderId: cloid,
        nonce: '18446744073709551615',
        deadline: '1700000060000',
      },
    })
  })

  it('survives JSON and reads back to the same bigints and numbers, every one a decimal string (PROTOCOL.md §5)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.oneof(fc.bigInt({ min: 0n, max: UINT256_MAX }), fc.string(), fc.integer())), (message) => {
        const wire = JSON.parse(JSON.stringify(toWireMessage(message))) as Record<string, string | number>
        for (const [key, value] of Object.entries(message)) {
          if (typeof value === 'bigint') expect(BigInt(wire[key] as string)).toBe(value)
          else if (typeof value === 'number') expect([typeof wire[key], Number(wire[key])]).toEqual(['string', value])
          else expect(wire[key]).toBe(value)
        }
        expect(Object.keys(wire).sort()).toEqual(Object.keys(message).sort())
      }),
      { numRuns: 200 },
    )
  })
})
