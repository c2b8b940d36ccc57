import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_AMOUNT } from '../../../src/core/money/decimal.js'
import { type OrderSnapshot, type OrderUpdate, applyOrderUpdate, averagePrice } from '../../../src/core/orders/applyOrderUpdate.js'
import { uncountableFill } from '../../../src/core/orders/uncountableFill.js'

const E18 = 10n ** 18n
const fresh = (overrides: Partial<OrderSnapshot> = {}): OrderSnapshot => ({
  state: 'pending', price: 2000n * E18, size: 10n * E18, filled: 0n, filledNotional: 0n, fees: 0n,
  venueRevision: 0, venueOrderId: null, cancelReason: null, rejectCode: null, ...overrides,
})
const apply = (order: OrderSnapshot, updates: OrderUpdate[]) => updates.reduce(applyOrderUpdate, order)
const fill = (size: bigint, price = 2000n): OrderUpdate => ({ kind: 'fill', price: price * E18, size: size * E18, fee: E18 / 100n })
const snapshot = (status: 'open' | 'partiallyFilled' | 'filled' | 'cancelled', revision = 0): OrderUpdate =>
  ({ kind: 'venueSnapshot', status, price: 2000n * E18, size: 10n * E18, filled: 0n, revision, venueOrderId: 'v1' })

describe('the order state machine', () => {
  it('walks the happy path: pending → submitting → open → partially_filled → filled, with an exact average price', () => {
    const order = apply(fresh(), [{ kind: 'submitting' }, { kind: 'accepted', venueOrderId: 'v1' }])
    expect(order).toMatchObject({ state: 'open', venueOrderId: 'v1' })
    const partial = apply(order, [fill(4n, 1990n)])
    expect(partial.state).toBe('partially_filled')
    const done = apply(partial, [fill(6n, 2000n)])
    expect(done.state).toBe('filled')
    expect(done.filled).toBe(10n * E18)
    expect(averagePrice(done)).toBe(1996n * E18) // (4×1990 + 6×2000) / 10
    expect(done.fees).toBe(2n * (E18 / 100n))
  })

  it('a lost response makes the order unknown, never rejected; the receipt or an event resolves it', () => {
    const unknown = apply(fresh(), [{ kind: 'submitting' }, { kind: 'unknown' }])
    expect(unknown.state).toBe('unknown')
    expect(apply(unknown, [{ kind: 'accepted' }]).state).toBe('open')
    expect(apply(unknown, [snapshot('filled')]).state).toBe('filled')
  })

  it('terminal states are final: a late accept, modify or stale read cannot revive them', () => {
    const cancelled = apply(fresh(), [{ kind: 'accepted' }, { kind: 'cancelled', reason: 'user' }])
    expect(apply(cancelled, [{ kind: 'accepted' }, { kind: 'modified', price: 1n, size: 1n, revision: 5 }, snapshot('open', 9)]).state).toBe('cancelled')
    const filled = apply(fresh(), [{ kind: 'accepted' }, fill(10n)])
    expect(apply(filled, [snapshot('open'), { kind: 'rejected', code: 'X' }, { kind: 'accepted' }]).state).toBe('filled')
  })

  it('an operator\'s cancel of an order counted filled here cancels it: its fills covered a size a modify had replaced', () => {
    // Filled 10 of 10 as Postgres knew it; the operator had it at 20 (an OrderModified without fields) and cancelled the rest.
    const filled = apply(fresh(), [{ kind: 'accepted' }, fill(10n)])
    const cancelled = apply(filled, [{ kind: 'cancelled', reason: 'sessionRevoked' }])
    expect(cancelled).toMatchObject({ state: 'cancelled', cancelReason: 'sessionRevoked', filled: 10n * E18 })
    // The read that follows brings the operator's size, and the order stays cancelled.
    expect(apply(cancelled, [{ kind: 'venueSnapshot', status: 'cancelled', price: 2000n * E18, size: 20n * E18, filled: 10n * E18, revision: 1, venueOrderId: 'v1' }]))
      .toMatchObject({ state: 'cancelled', size: 20n * E18, venueRevision: 1 })
  })

  it('a fill completes an order cancelled concurrently; a fill, a read or an acceptance proves a rejection wrong', () => {
    const cancelled = apply(fresh(), [{ kind: 'accepted' }, fill(4n), { kind: 'cancelled', reason: 'user' }])
    expect(apply(cancelled, [fill(6n)]).state).toBe('filled')
    expect(apply(cancelled, [fill(1n)]).state).toBe('cancelled')
    const rejected = apply(fresh(), [{ kind: 'submitting' }, { kind: 'rejected', code: 'PostOnlyWouldCross' }])
    expect(rejected).toMatchObject({ state: 'rejected', rejectCode: 'PostOnlyWouldCross' })
    expect(apply(rejected, [fill(1n)])).toMatchObject({ state: 'partially_filled', rejectCode: null })
    expect(apply(rejected, [snapshot('open')])).toMatchObject({ state: 'open', rejectCode: null })
    // The rejection's answer was lost and the same cloid, sent again, was accepted: the operator holds it.
    expect(apply(rejected, [{ kind: 'accepted', venueOrderId: 'v9' }])).toMatchObject({ state: 'open', rejectCode: null, venueOrderId: 'v9' })
    // A rejection never undoes an acceptance, whichever arrives first.
    expect(apply(fresh(), [{ kind: 'unknown' }, { kind: 'accepted' }, { kind: 'rejected', code: 'X' }])).toMatchObject({ state: 'open', rejectCode: null })
  })

  it('a stale read of a cancelled order does not bring it back, but a read saying filled wins', () => {
    const cancelled = apply(fresh(), [{ kind: 'accepted' }, { kind: 'cancelled', reason: 'user' }])
    expect(apply(cancelled, [snapshot('open')]).state).toBe('cancelled')
    expect(apply(cancelled, [snapshot('filled')]).state).toBe('filled')
  })

  it('a read taken before a fill the order already counts does not move it back to open', () => {
    const partial = apply(fresh(), [{ kind: 'accepted' }, fill(4n)])
    expect(apply(partial, [snapshot('open')]).state).toBe('partially_filled')
    expect(apply(partial, [snapshot('filled')]).state).toBe('filled')
  })

  it('a modify that arrives after the order ended records its price and size, and the order stays final', () => {
    const cancelled = apply(fresh(), [{ kind: 'accepted' }, { kind: 'cancelled', reason: 'user' }])
    const late = apply(cancelled, [{ kind: 'modified', price: 2010n * E18, size: 5n * E18, revision: 1 }, { kind: 'modified', price: 1n, size: 1n, revision: 1 }])
    expect(late).toMatchObject({ state: 'cancelled', price: 2010n * E18, size: 5n * E18, venueRevision: 1 })
  })

  it('an order counted filled against the size a modify replaced (the modify learnt of after its fill) is partly filled at the new size', () => {
    const countedFilled = apply(fresh({ size: 5n * E18 }), [{ kind: 'accepted' }, fill(5n)])
    expect(countedFilled.state).toBe('filled')
    const modified: OrderUpdate = { kind: 'modified', price: 2000n * E18, size: 10n * E18, revision: 1 }
    expect(apply(countedFilled, [modified])).toMatchObject({ state: 'partially_filled', size: 10n * E18, venueRevision: 1 })
    // The same learnt from a read of that revision, whenever it was taken; one saying filled or cancelled is followed.
    for (const [status, state] of [['open', 'partially_filled'], ['partiallyFilled', 'partially_filled'], ['filled', 'filled'], ['cancelled', 'cancelled']] as const) {
      expect(apply(countedFilled, [snapshot(status, 1)])).toMatchObject({ state, size: 10n * E18, venueRevision: 1 })
    }
    // The rest of its fills complete it.
    expect(apply(countedFilled, [modified, fill(5n)]).state).toBe('filled')
    // Truly filled (its read says so, with its last revision): nothing later revives it.
    const readFilled = apply(fresh(), [{ kind: 'accepted' }, snapshot('filled', 2)])
    expect(apply(readFilled, [{ kind: 'modified', price: 1n, size: 20n * E18, revision: 2 }, snapshot('open', 2)]).state).toBe('filled')
  })

  it('modifications apply once per revision, in revision order', () => {
    const open = apply(fresh(), [{ kind: 'accepted' }])
    const modified = apply(open, [{ kind: 'modified', price: 2010n * E18, size: 5n * E18, revision: 2 }, { kind: 'modified', price: 1n, size: 1n, revision: 1 }])
    expect(modified).toMatchObject({ price: 2010n * E18, size: 5n * E18, venueRevision: 2 })
  })

  it('tolerates duplicated and re-ordered delivery: any order of the same distinct fills and idempotent updates gives one result', () => {
    const base = apply(fresh(), [{ kind: 'submitting' }])
    fc.assert(fc.property(
      fc.array(fc.bigInt({ min: 1n, max: 3n }), { minLength: 0, maxLength: 3 }),
      fc.array(fc.constantFrom<OrderUpdate>({ kind: 'accepted', venueOrderId: 'v1' }, { kind: 'accepted', venueOrderId: 'v1' }), { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 0, max: 1000 }),
      (sizes, accepts, seed) => {
        const fills = sizes.map((s) => fill(s))
        const updates = [...fills, ...accepts]
        const shuffled = [...updates].sort((a, b) => ((updates.indexOf(a) * 7919 + seed) % 13) - ((updates.indexOf(b) * 7919 + seed) % 13))
        const inOrder = apply(base, updates)
        const reordered = apply(base, shuffled)
        expect(reordered.filled).toBe(inOrder.filled)
        expect(reordered.filledNotional).toBe(inOrder.filledNotional)
        expect(reordered.state).toBe(inOrder.state)
        expect(reordered.venueOrderId).toBe('v1')
      },
    ), { numRuns: 300 })
  })
})

describe('a fill its order cannot count (uncountableFill)', () => {
  const open = fresh({ state: 'open' })
  it('is one that would take the filled size or the fees past uint256 at 18 decimals (numeric(78,18), parseAmount), or Σ price × size past 156 digits', () => {
    expect(uncountableFill(open, { price: E18, size: MAX_AMOUNT, fee: MAX_AMOUNT })).toBeUndefined()
    expect(uncountableFill(open, { price: E18, size: MAX_AMOUNT, fee: -MAX_AMOUNT })).toBeUndefined()
    expect(uncountableFill({ ...open, filled: 1n }, { price: E18, size: MAX_AMOUNT, fee: 0n })).toBe('size: counted on its order, the filled size would exceed the largest amount stored (uint256 at 18 decimals)')
    expect(uncountableFill({ ...open, fees: 1n }, { price: E18, size: E18, fee: MAX_AMOUNT })).toBe('fee: counted on its order, the fees would exceed the largest amount stored (uint256 at 18 decimals)')
    expect(uncountableFill({ ...open, fees: -1n }, { price: E18, size: E18, fee: -MAX_AMOUNT })).toMatch(/^fee: /)
    expect(uncountableFill({ ...open, filledNotional: 10n ** 156n - MAX_AMOUNT }, { price: MAX_AMOUNT, size: 2n, fee: 0n })).toBe('price: counted on its order, the sum of price × size would exceed 156 digits')
  })

  it('is not counted by the state machine: the order is left as it was', () => {
    const counted = applyOrderUpdate(open, { kind: 'fill', price: E18, size: MAX_AMOUNT, fee: 0n })
    expect(counted).toMatchObject({ state: 'filled', filled: MAX_AMOUNT })
    expect(applyOrderUpdate(counted, fill(1n))).toBe(counted)
  })
})
