import { keccak_256 } from '@noble/hashes/sha3.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { createNonceGenerator } from '../../src/core/requests/createNonceGenerator.js'
import { deriveClientOrderId } from '../../src/core/requests/deriveClientOrderId.js'
import { thrown } from './support/arbitraries.js'

function strictlyIncreasing(values: bigint[]): boolean {
  return values.every((value, i) => i === 0 || value > values[i - 1]!)
}

describe('createNonceGenerator', () => {
  it('is ms * 1000 whenever the clock has advanced', () => {
    const times = [1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_500, 1_700_000_009_999]
    let i = 0
    const nonces = createNonceGenerator(() => times[i++]!)
    expect(times.map(() => nonces.next())).toEqual([1_700_000_000_000_000n, 1_700_000_000_001_000n, 1_700_000_000_500_000n, 1_700_000_009_999_000n])
  })

  it('floors fractional milliseconds', () => {
    expect(createNonceGenerator(() => 1_700_000_000_000.9).next()).toBe(1_700_000_000_000_000n)
  })

  it('never repeats under a frozen clock, even over thousands of calls in one tick', () => {
    const nonces = createNonceGenerator(() => 1_700_000_000_000)
    const drawn = Array.from({ length: 5000 }, () => nonces.next())
    expect(drawn[0]).toBe(1_700_000_000_000_000n)
    expect(strictlyIncreasing(drawn)).toBe(true)
    expect(new Set(drawn).size).toBe(5000)
    expect(drawn[4999]).toBe(1_700_000_000_004_999n)
  })

  it('keeps increasing after a burst overflows into the next milliseconds', () => {
    let now = 1_000
    const nonces = createNonceGenerator(() => now)
    let last = 0n
    for (let i = 0; i < 2500; i++) last = nonces.next()
    now = 1_001
    expect(nonces.next()).toBe(last + 1n)
    now = 2_000
    expect(nonces.next()).toBe(2_000_000n)
  })

  it('keeps increasing while the clock goes backwards', () => {
    let now = 1_700_000_000_000
    const nonces = createNonceGenerator(() => now)
    const drawn: bigint[] = []
    for (let i = 0; i < 1000; i++) {
      drawn.push(nonces.next())
      now -= 7
    }
    expect(strictlyIncreasing(drawn)).toBe(true)
  })

  it('is strictly increasing and never below the clock for any sequence of clock readings', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 45 }), { minLength: 1, maxLength: 300 }), (readings) => {
        let i = 0
        const nonces = createNonceGenerator(() => readings[i]!)
        const drawn: bigint[] = []
        for (; i < readings.length; i++) {
          const nonce = nonces.next()
          expect(nonce >= BigInt(readings[i]!) * 1000n).toBe(true)
          drawn.push(nonce)
        }
        expect(strictlyIncreasing(drawn)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('honours start: every nonce is above it, and the clock takes over once it passes it', () => {
    expect(createNonceGenerator(() => 5, 9_000_000n).next()).toBe(9_000_001n)
    expect(createNonceGenerator(() => 10_000, 9_000_000n).next()).toBe(10_000_000n)
    expect(createNonceGenerator(() => 9_000, 9_000_000n).next()).toBe(9_000_001n)
  })

  it('refuses a clock that does not return unix milliseconds', () => {
    for (const reading of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      const error = thrown(() => createNonceGenerator(() => reading).next())
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).field).toBe('now')
    }
  })
})

describe('deriveClientOrderId', () => {
  it('is 16 bytes of lowercase hex and deterministic', () => {
    const cloid = deriveClientOrderId('intent-1', 0)
    expect(cloid).toMatch(/^0x[0-9a-f]{32}$/)
    expect(deriveClientOrderId('intent-1', 0)).toBe(cloid)
    expect(deriveClientOrderId('intent-1', 0, 'intent')).toBe(cloid)
  })

  it('keeps the v1 derivation: the first 16 bytes of keccak256("deputy:cloid:v1:<scope>:<id>:<revision>")', () => {
    // Stored orders depend on this: changing it would re-create orders after an upgrade.
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), fc.stringMatching(/^[a-z-]{1,12}$/), (id, revision, scope) => {
        const digest = keccak_256(new TextEncoder().encode(`deputy:cloid:v1:${scope}:${id}:${revision}`))
        expect(deriveClientOrderId(id, revision, scope)).toBe(`0x${Buffer.from(digest.subarray(0, 16)).toString('hex')}`)
      }),
      { numRuns: 200 },
    )
  })

  it('differs by intent id, revision and scope', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.nat({ max: 50 }), fc.constantFrom('intent', 'schedule')), {
          minLength: 2, maxLength: 40, selector: ([id, revision, scope]) => `${scope}\u0000${id}\u0000${revision}`,
        }),
        (inputs) => {
          const cloids = inputs.map(([id, revision, scope]) => deriveClientOrderId(id, revision, scope))
          expect(new Set(cloids).size).toBe(inputs.length)
        },
      ),
      { numRuns: 200 },
    )
    expect(deriveClientOrderId('a', 1)).not.toBe(deriveClientOrderId('a', 2))
    expect(deriveClientOrderId('a', 1)).not.toBe(deriveClientOrderId('b', 1))
    expect(deriveClientOrderId('a', 1, 'intent')).not.toBe(deriveClientOrderId('a', 1, 'schedule'))
  })

  it('refuses a scope with ":" so that scope and id can never run into each other', () => {
    // Without the rule, ("x:y", "z") and ("x", "y:z") would hash the same preimage.
    const error = thrown(() => deriveClientOrderId('z', 0, 'x:y'))
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).field).toBe('scope')
    expect((thrown(() => deriveClientOrderId('z', 0, '')) as ValidationError).field).toBe('scope')
    expect(deriveClientOrderId('y:z', 0, 'x')).toMatch(/^0x[0-9a-f]{32}$/)
  })

  it.each([
    ['intentId', '', 0],
    ['intentId', 42, 0],
    ['revision', 'intent-1', -1],
    ['revision', 'intent-1', 1.5],
    ['revision', 'intent-1', Number.NaN],
    ['revision', 'intent-1', 2 ** 53],
  ])('names %s when given (%j, %s)', (field, id, revision) => {
    const error = thrown(() => deriveClientOrderId(id as string, revision))
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).field).toBe(field)
  })
})
