/**
 * The reliability drill's verification (bench/drill/checkOutcome.ts): each bad final state is
 * counted in its own category, and a good one counts nothing. The operator is a stand-in holding
 * only what checkOutcome reads of the in-process sandbox (orders, events, fills, counters).
 */
import { randomBytes } from 'node:crypto'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AskedIntent, type Outcome, checkOutcome, problemRows } from '../../bench/drill/checkOutcome.js'
import { deriveClientOrderId } from '../../src/core/requests/deriveClientOrderId.js'
import { parseAmount } from '../../src/core/money/decimal.js'
import type { Sandbox } from '../../src/sandbox/startSandbox.js'
import type { Db } from '../../src/store/Database.js'
import { fills, intents, orders, outbox, wallets } from '../../src/store/schema/index.js'
import { type TestDatabase, createTestDatabase } from '../support/database.js'

let testDb: TestDatabase
let db: Db
beforeAll(async () => { testDb = await createTestDatabase(); db = testDb.database.db as unknown as Db })
afterAll(async () => { await testDb?.drop() })

const amt = (s: string) => parseAmount('x', s)
const T0 = Date.now() - 60_000
type VenueOrder = { status: string; price: bigint; size: bigint; filled: bigint; revision: number; updatedAt: number }
type VenueEvent = { seq: string; type: string; at: number; clientOrderId: string; data: Record<string, unknown> }
type VenueFill = { fillId: string; seq: string; clientOrderId: string; price: bigint; size: bigint; fee: bigint }

/** A stand-in for the in-process sandbox: only what checkOutcome reads. */
function fakeSandbox(address: string, venue: Record<string, VenueOrder>, more: { events?: VenueEvent[]; fills?: VenueFill[]; created?: number } = {}): Sandbox {
  const key = address.toLowerCase()
  const wallet = { key, orders: new Map(Object.entries(venue).map(([cloid, o]) => [cloid.toLowerCase(), o])), events: { since: () => more.events ?? [], head: 0 }, fills: more.fills ?? [] }
  return { state: { wallets: new Map([[key, wallet]]), counters: { order: more.created ?? Object.keys(venue).length, fill: 0 } } } as unknown as Sandbox
}

async function newWallet() {
  const address = `0x${randomBytes(20).toString('hex')}`
  const [w] = await db.insert(wallets).values({ address, status: 'active' }).returning()
  return w!
}

async function newIntent(walletId: string, status: 'active' | 'cancel_requested' | 'cancelled' = 'active', revision = 0, clientRef?: string) {
  const [i] = await db.insert(intents).values({ walletId, kind: 'limit', market: 'ETH-USD', side: 0, price: '1950', size: '0.05', timeInForce: 0, status, revision, clientRef }).returning()
  return i!
}

async function newOrder(walletId: string, intentId: string, revision: number, fields: Partial<typeof orders.$inferInsert> = {}) {
  const [o] = await db.insert(orders).values({
    walletId, intentId, clientOrderId: deriveClientOrderId(intentId, revision), market: 'ETH-USD', side: 0,
    price: '1950', size: '0.05', timeInForce: 0, state: 'open', venueOrderId: '1', ...fields,
  }).returning()
  return o!
}

async function newRow(walletId: string, orderId: string, kind: 'ModifyOrder' | 'CancelOrder', payload: Record<string, unknown>, status: 'done' | 'failed', updatedAt = new Date(), lastError?: string) {
  const [row] = await db.insert(outbox).values({ walletId, kind, orderId, payload, status, lastError }).returning()
  // $onUpdate would stamp now; the row's settle time is what some checks read.
  await db.execute(sql`update outbox set updated_at = ${updatedAt.toISOString()}::timestamptz where id = ${row!.id}`)
  return row!
}

const open: VenueOrder = { status: 'open', price: amt('1950'), size: amt('0.05'), filled: 0n, revision: 0, updatedAt: T0 }
const problems = (o: Outcome) => ({
  duplicates: o.duplicates, lost: o.lost, mismatched: o.mismatched, cancelsWrong: o.cancelsWrong,
  modifiesWrong: o.modifiesWrong, fillsDiffering: o.fillsDiffering, failedOutbox: o.failedOutbox,
})
const none = { duplicates: 0, lost: 0, mismatched: 0, cancelsWrong: 0, modifiesWrong: 0, fillsDiffering: 0, failedOutbox: 0 }

describe('checkOutcome (the drill checks)', () => {
  it('a good state counts nothing: a resting order, a modified one, a cancelled one, a partly filled one with its fill rows', async () => {
    const w = await newWallet()
    const resting = await newOrder(w.id, (await newIntent(w.id, 'active', 0, 'r0')).id, 0)

    const modifiedIntent = await newIntent(w.id, 'active', 0, 'r1')
    const modified = await newOrder(w.id, modifiedIntent.id, 0, { price: '1940', size: '0.08', venueRevision: 1 })
    const modifyRow = await newRow(w.id, modified.id, 'ModifyOrder', { price: '1940.00', size: '0.080' }, 'done')

    const cancelledIntent = await newIntent(w.id, 'cancelled', 0, 'r2')
    const cancelled = await newOrder(w.id, cancelledIntent.id, 0, { state: 'cancelled', cancelReason: 'user' })
    const cancelRow = await newRow(w.id, cancelled.id, 'CancelOrder', { reason: 'user' }, 'done')

    // Filled 0.02 of 0.05 at 1950, maker fee 0.0078.
    const partIntent = await newIntent(w.id, 'active', 0, 'r3')
    const notional = amt('1950') * amt('0.02')
    const part = await newOrder(w.id, partIntent.id, 0, { state: 'partially_filled', filled: '0.02', filledNotional: String(notional), averagePrice: '1950', fees: '0.0078' })
    await db.insert(fills).values({ walletId: w.id, orderId: part.id, fillId: '7', clientOrderId: part.clientOrderId, market: 'ETH-USD', side: 0, price: '1950', size: '0.02', fee: '0.0078', seq: 9, at: new Date() })

    // A cancel asked before placement: cancelled locally, never at the operator.
    const earlyIntent = await newIntent(w.id, 'cancelled', 0, 'r4')
    const early = await newOrder(w.id, earlyIntent.id, 0, { state: 'cancelled', venueOrderId: null })
    const earlyCancel = await newRow(w.id, early.id, 'CancelOrder', { reason: 'user' }, 'done', new Date(), 'cancelled before submission')

    const sandbox = fakeSandbox(w.address, {
      [resting.clientOrderId]: open,
      [modified.clientOrderId]: { ...open, price: amt('1940'), size: amt('0.08'), revision: 1 },
      [cancelled.clientOrderId]: { ...open, status: 'cancelled' },
      [part.clientOrderId]: { ...open, status: 'partiallyFilled', filled: amt('0.02') },
    }, {
      events: [{ seq: '5', type: 'OrderModified', at: T0, clientOrderId: modified.clientOrderId, data: { price: '1940', size: '0.08', revision: 1 } }],
      fills: [{ fillId: '7', seq: '9', clientOrderId: part.clientOrderId, price: amt('1950'), size: amt('0.02'), fee: amt('0.0078') }],
    })
    const asked: AskedIntent[] = [
      { clientRef: 'r0', price: '1950', size: '0.05', modifies: [], cancels: [] },
      { clientRef: 'r1', price: '1950', size: '0.05', modifies: [{ outboxId: modifyRow.id, price: '1940.00', size: '0.080' }], cancels: [] },
      { clientRef: 'r2', price: '1950', size: '0.05', modifies: [], cancels: [cancelRow.id] },
      { clientRef: 'r3', price: '1950', size: '0.05', modifies: [], cancels: [] },
      { clientRef: 'r4', price: '1950', size: '0.05', modifies: [], cancels: [earlyCancel.id] },
    ]
    const outcome = await checkOutcome(db, sandbox, [w.id], asked)
    expect(outcome.examples).toEqual([])
    expect(problems(outcome)).toEqual(none)
    expect(outcome.cancelledBeforePlacement).toBe(1)
    expect(outcome.exercised).toMatchObject({ modifiesApplied: 1, partiallyFilled: 1 })
  })

  it('a session rotation\'s re-placement is not a duplicate: the first order cancelled at the operator names the second', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'active', 1)
    const second = await newOrder(w.id, intent.id, 1, { venueOrderId: '2' })
    const first = await newOrder(w.id, intent.id, 0, { state: 'cancelled', cancelReason: 'sessionRevoked', replacedBy: second.id })
    const sandbox = fakeSandbox(w.address, { [first.clientOrderId]: { ...open, status: 'cancelled' }, [second.clientOrderId]: open }, {
      events: [{ seq: '2', type: 'OrderCancelled', at: T0, clientOrderId: first.clientOrderId, data: { reason: 'sessionRevoked' } }],
    })
    expect(problems(await checkOutcome(db, sandbox, [w.id]))).toEqual(none)
  })

  /**
   * An order that filled 0.02 of 0.05, cancelled by its session's end and placed again for 0.03; the
   * user's modify to 0.08 at 1940, asked of the first, moved onto the replacement carrying `size`
   * (the ask less what the first filled: 0.06), which the operator applied. `appliedToFirst`: the
   * operator had applied it to the first already (its answer lost before the session ended).
   */
  async function movedModify(clientRef: string, size: string, appliedToFirst = false) {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'active', 1, clientRef)
    const second = await newOrder(w.id, intent.id, 1, { venueOrderId: '2', price: '1940', size, venueRevision: 1 })
    const notional = amt('1950') * amt('0.02')
    const first = await newOrder(w.id, intent.id, 0, {
      state: 'cancelled', cancelReason: 'sessionRevoked', replacedBy: second.id, filled: '0.02', filledNotional: String(notional), averagePrice: '1950', fees: '0',
      ...(appliedToFirst ? { price: '1940', size: '0.08', venueRevision: 1 } : {}),
    })
    await db.insert(fills).values({ walletId: w.id, orderId: first.id, fillId: '41', clientOrderId: first.clientOrderId, market: 'ETH-USD', side: 0, price: '1950', size: '0.02', fee: '0', seq: 2, at: new Date() })
    const modify = await newRow(w.id, second.id, 'ModifyOrder', { price: '1940.00', size, follows: first.id }, 'done')
    const sandbox = fakeSandbox(w.address, {
      [first.clientOrderId]: { ...open, status: 'cancelled', filled: amt('0.02'), ...(appliedToFirst ? { price: amt('1940'), size: amt('0.08'), revision: 1 } : {}) },
      [second.clientOrderId]: { ...open, price: amt('1940'), size: amt(size), revision: 1 },
    }, {
      events: [
        ...(appliedToFirst ? [{ seq: '2', type: 'OrderModified', at: T0, clientOrderId: first.clientOrderId, data: { price: '1940', size: '0.08', revision: 1 } }] : []),
        { seq: '3', type: 'OrderCancelled', at: T0, clientOrderId: first.clientOrderId, data: { reason: 'sessionRevoked' } },
        { seq: '5', type: 'OrderModified', at: T0, clientOrderId: second.clientOrderId, data: { price: '1940', size, revision: 1 } },
      ],
      fills: [{ fillId: '41', seq: '2', clientOrderId: first.clientOrderId, price: amt('1950'), size: amt('0.02'), fee: 0n }],
      created: 2,
    })
    const asked: AskedIntent[] = [{ clientRef, price: '1950', size: '0.05', modifies: [{ outboxId: modify.id, orderId: first.id, price: '1940.00', size: '0.080' }], cancels: [] }]
    return checkOutcome(db, sandbox, [w.id], asked)
  }

  it('a modify moved onto a session\'s replacement at the asked size less what the cancelled order filled: not counted, and shown as exercised', async () => {
    const outcome = await movedModify('f1', '0.06')
    expect(outcome.examples).toEqual([])
    expect(problems(outcome)).toEqual(none)
    expect(outcome.exercised).toMatchObject({ cancelledBySessionEnd: 1, placedAgain: 1, modifiesMovedToReplacement: 1 })
  })

  it('a modify the operator applied to the order it asked of, then moved onto that order\'s replacement and applied again: not counted', async () => {
    const outcome = await movedModify('f3', '0.06', true)
    expect(outcome.examples).toEqual([])
    expect(problems(outcome)).toEqual(none)
  })

  it('a modify moved onto a session\'s replacement at another size than the asked one less what the cancelled order filled: counted', async () => {
    const outcome = await movedModify('f2', '0.07')
    expect(problems(outcome)).toEqual({ ...none, modifiesWrong: 1 })
    expect(outcome.examples.join('\n')).toMatch(/carries 1940.00 x 0.07; the user asked 1940.00 x 0.080, less the 0.02 the orders it left filled: 0.06/)
  })

  it('a modify superseded by a later one of the same order (never sent): not counted; one settled so with no later one: counted', async () => {
    const check = async (withLater: boolean) => {
      const w = await newWallet()
      const intent = await newIntent(w.id)
      const order = await newOrder(w.id, intent.id, 0, { price: '1940', size: '0.08', venueRevision: 1 })
      await newRow(w.id, order.id, 'ModifyOrder', { price: '1960.00', size: '0.050' }, 'done', new Date(), 'superseded by a later modification of this order: not applied')
      if (withLater) await newRow(w.id, order.id, 'ModifyOrder', { price: '1940.00', size: '0.080' }, 'done')
      const sandbox = fakeSandbox(w.address, { [order.clientOrderId]: { ...open, price: amt('1940'), size: amt('0.08'), revision: 1 } }, {
        events: withLater ? [{ seq: '5', type: 'OrderModified', at: T0, clientOrderId: order.clientOrderId, data: { price: '1940', size: '0.08', revision: 1 } }] : [],
      })
      return problems(await checkOutcome(db, sandbox, [w.id]))
    }
    expect(await check(true)).toEqual(none)
    expect((await check(false)).modifiesWrong).toBeGreaterThan(0)
  })

  it('one intent placed twice under two cloids, both live at the operator: a duplicate', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'active', 1)
    const first = await newOrder(w.id, intent.id, 0)
    const second = await newOrder(w.id, intent.id, 1, { venueOrderId: '2' })
    const outcome = await checkOutcome(db, fakeSandbox(w.address, { [first.clientOrderId]: open, [second.clientOrderId]: open }), [w.id])
    expect(problems(outcome)).toEqual({ ...none, duplicates: 1 })
  })

  it('a replacement whose predecessor filled (not cancelled) is a duplicate', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'active', 1)
    const second = await newOrder(w.id, intent.id, 1, { venueOrderId: '2' })
    const first = await newOrder(w.id, intent.id, 0, { state: 'filled', filled: '0.05', replacedBy: second.id, filledNotional: String(amt('1950') * amt('0.05')), averagePrice: '1950' })
    await db.insert(fills).values({ walletId: w.id, orderId: first.id, fillId: '31', clientOrderId: first.clientOrderId, market: 'ETH-USD', side: 0, price: '1950', size: '0.05', fee: '0', seq: 3, at: new Date() })
    const sandbox = fakeSandbox(w.address, { [first.clientOrderId]: { ...open, status: 'filled', filled: amt('0.05') }, [second.clientOrderId]: open }, {
      fills: [{ fillId: '31', seq: '3', clientOrderId: first.clientOrderId, price: amt('1950'), size: amt('0.05'), fee: 0n }],
    })
    const outcome = await checkOutcome(db, sandbox, [w.id])
    expect(outcome.duplicates).toBe(1)
  })

  it('every order is compared, not only an intent\'s last: Postgres says cancelled, the operator has it open', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'active', 1)
    const second = await newOrder(w.id, intent.id, 1, { venueOrderId: '2' })
    const first = await newOrder(w.id, intent.id, 0, { state: 'cancelled', replacedBy: second.id })
    const outcome = await checkOutcome(db, fakeSandbox(w.address, { [first.clientOrderId]: open, [second.clientOrderId]: open }), [w.id])
    // Differs, and with its predecessor still open the second order is a duplicate.
    expect(outcome.mismatched).toBe(1)
    expect(outcome.duplicates).toBe(1)
  })

  it('a cancel the user asked that never took effect (its row failed): counted as a cancel without effect and a failed row', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'cancel_requested')
    const order = await newOrder(w.id, intent.id, 0)
    await newRow(w.id, order.id, 'CancelOrder', { reason: 'user' }, 'failed', new Date(), 'NonceReused: x')
    const outcome = await checkOutcome(db, fakeSandbox(w.address, { [order.clientOrderId]: open }), [w.id])
    expect(problems(outcome)).toEqual({ ...none, cancelsWrong: 1, failedOutbox: 1 })
  })

  it('a cancel settled as "already filled" before the order filled at the operator: counted', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'cancel_requested')
    const order = await newOrder(w.id, intent.id, 0, { state: 'filled', filled: '0.05', filledNotional: String(amt('1950') * amt('0.05')), averagePrice: '1950' })
    await db.insert(fills).values({ walletId: w.id, orderId: order.id, fillId: '41', clientOrderId: order.clientOrderId, market: 'ETH-USD', side: 0, price: '1950', size: '0.05', fee: '0', seq: 3, at: new Date() })
    await newRow(w.id, order.id, 'CancelOrder', { reason: 'user' }, 'done', new Date(T0 - 1_000), 'order already filled')
    const sandbox = fakeSandbox(w.address, { [order.clientOrderId]: { ...open, status: 'filled', filled: amt('0.05') } }, {
      fills: [{ fillId: '41', seq: '3', clientOrderId: order.clientOrderId, price: amt('1950'), size: amt('0.05'), fee: 0n }],
    })
    expect(problems(await checkOutcome(db, sandbox, [w.id]))).toEqual({ ...none, cancelsWrong: 1 })
    // Filled before the cancel settled: fine.
    const later = fakeSandbox(w.address, { [order.clientOrderId]: { ...open, status: 'filled', filled: amt('0.05'), updatedAt: T0 - 2_000 } }, {
      fills: [{ fillId: '41', seq: '3', clientOrderId: order.clientOrderId, price: amt('1950'), size: amt('0.05'), fee: 0n }],
    })
    expect(problems(await checkOutcome(db, later, [w.id]))).toEqual(none)
  })

  it('an order cancelled at the operator that nobody asked to cancel: counted', async () => {
    const w = await newWallet()
    const order = await newOrder(w.id, (await newIntent(w.id)).id, 0, { state: 'cancelled' })
    const outcome = await checkOutcome(db, fakeSandbox(w.address, { [order.clientOrderId]: { ...open, status: 'cancelled' } }), [w.id])
    expect(problems(outcome)).toEqual({ ...none, cancelsWrong: 1 })
  })

  it('a cancel the workload asked with no outbox row: counted', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'active', 0, 'c1')
    const order = await newOrder(w.id, intent.id, 0)
    const asked: AskedIntent[] = [{ clientRef: 'c1', price: '1950', size: '0.05', modifies: [], cancels: ['00000000-0000-4000-8000-000000000000'] }]
    const outcome = await checkOutcome(db, fakeSandbox(w.address, { [order.clientOrderId]: open }), [w.id], asked)
    expect(outcome.cancelsWrong).toBeGreaterThanOrEqual(1)
  })

  it('a modify the user asked that never reached the operator while the order stayed open: counted', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id)
    const order = await newOrder(w.id, intent.id, 0)
    await newRow(w.id, order.id, 'ModifyOrder', { price: '1940.00', size: '0.080' }, 'done', new Date(), 'order row missing')
    const outcome = await checkOutcome(db, fakeSandbox(w.address, { [order.clientOrderId]: open }), [w.id])
    expect(problems(outcome)).toEqual({ ...none, modifiesWrong: 1 })
  })

  it('a modify dropped as "order filled" before the order filled at the operator is counted; one settled after the fill is not', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id)
    const order = await newOrder(w.id, intent.id, 0, { state: 'filled', filled: '0.05', filledNotional: String(amt('1950') * amt('0.05')), averagePrice: '1950' })
    await db.insert(fills).values({ walletId: w.id, orderId: order.id, fillId: '51', clientOrderId: order.clientOrderId, market: 'ETH-USD', side: 0, price: '1950', size: '0.05', fee: '0', seq: 3, at: new Date() })
    await newRow(w.id, order.id, 'ModifyOrder', { price: '1940.00', size: '0.080' }, 'done', new Date(T0), 'order filled: modification not applied')
    const fillsAt = [{ fillId: '51', seq: '3', clientOrderId: order.clientOrderId, price: amt('1950'), size: amt('0.05'), fee: 0n }]
    const filledAfter = fakeSandbox(w.address, { [order.clientOrderId]: { ...open, status: 'filled', filled: amt('0.05'), updatedAt: T0 + 5_000 } }, { fills: fillsAt })
    expect(problems(await checkOutcome(db, filledAfter, [w.id]))).toEqual({ ...none, modifiesWrong: 1 })
    const filledBefore = fakeSandbox(w.address, { [order.clientOrderId]: { ...open, status: 'filled', filled: amt('0.05'), updatedAt: T0 - 5_000 } }, { fills: fillsAt })
    expect(problems(await checkOutcome(db, filledBefore, [w.id]))).toEqual(none)
  })

  it('a modify the operator refused because its size did not exceed what filled: not counted, nor its failed row', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id)
    const order = await newOrder(w.id, intent.id, 0, { state: 'partially_filled', filled: '0.04', filledNotional: String(amt('1950') * amt('0.04')), averagePrice: '1950' })
    await db.insert(fills).values({ walletId: w.id, orderId: order.id, fillId: '61', clientOrderId: order.clientOrderId, market: 'ETH-USD', side: 0, price: '1950', size: '0.04', fee: '0', seq: 3, at: new Date() })
    await newRow(w.id, order.id, 'ModifyOrder', { price: '1940.00', size: '0.030' }, 'failed', new Date(), 'InvalidRequest: message.size must exceed')
    const sandbox = fakeSandbox(w.address, { [order.clientOrderId]: { ...open, status: 'partiallyFilled', filled: amt('0.04') } }, {
      fills: [{ fillId: '61', seq: '3', clientOrderId: order.clientOrderId, price: amt('1950'), size: amt('0.04'), fee: 0n }],
    })
    expect(problems(await checkOutcome(db, sandbox, [w.id]))).toEqual(none)
  })

  it('an order placed at a modify asked before it was sent (no OrderModified), then filled: not counted; without that modify it would be', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id) // the user asked 1950 x 0.05, then 1940 x 0.08 before it was sent
    const order = await newOrder(w.id, intent.id, 0, { price: '1940', size: '0.08', state: 'filled', filled: '0.08', filledNotional: String(amt('1940') * amt('0.08')), averagePrice: '1940' })
    await db.insert(fills).values({ walletId: w.id, orderId: order.id, fillId: '71', clientOrderId: order.clientOrderId, market: 'ETH-USD', side: 0, price: '1940', size: '0.08', fee: '0', seq: 3, at: new Date() })
    const row = await newRow(w.id, order.id, 'ModifyOrder', { price: '1940.00', size: '0.080', beforePlacement: true }, 'done', new Date(T0), 'order filled: placed with this modification\'s price and size (asked before it was sent); nothing left to modify')
    const sandbox = fakeSandbox(w.address, { [order.clientOrderId]: { ...open, status: 'filled', price: amt('1940'), size: amt('0.08'), filled: amt('0.08'), updatedAt: T0 - 5_000 } }, {
      fills: [{ fillId: '71', seq: '3', clientOrderId: order.clientOrderId, price: amt('1940'), size: amt('0.08'), fee: 0n }],
    })
    expect(problems(await checkOutcome(db, sandbox, [w.id]))).toEqual(none)
    await db.update(outbox).set({ payload: { price: '1940.00', size: '0.080' } }).where(eq(outbox.id, row.id))
    expect(problems(await checkOutcome(db, sandbox, [w.id]))).toEqual({ ...none, modifiesWrong: 1 })
  })

  it('an order placed at a modify asked before it was sent, cancelled by its session\'s end, the modify moved onto a replacement cancelled before it was placed: not counted', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'cancelled', 1) // the user asked 1950 x 0.05, then 1940 x 0.08 before it was sent
    const second = await newOrder(w.id, intent.id, 1, { price: '1940', size: '0.08', state: 'cancelled', cancelReason: 'user', venueOrderId: null })
    await newRow(w.id, second.id, 'CancelOrder', { reason: 'user' }, 'done', new Date(T0), 'cancelled before submission')
    const first = await newOrder(w.id, intent.id, 0, { price: '1940', size: '0.08', state: 'cancelled', cancelReason: 'sessionRevoked', replacedBy: second.id, venueOrderId: '1' })
    const row = await newRow(w.id, second.id, 'ModifyOrder', { price: '1940', size: '0.08', follows: first.id, beforePlacement: true }, 'done', new Date(T0), 'order cancelled: placed with this modification\'s price and size (asked before it was sent); nothing left to modify')
    const sandbox = fakeSandbox(w.address, { [first.clientOrderId]: { ...open, status: 'cancelled', price: amt('1940'), size: amt('0.08') } }, {
      events: [{ seq: '2', type: 'OrderCancelled', at: T0, clientOrderId: first.clientOrderId, data: { reason: 'sessionRevoked' } }],
    })
    const outcome = await checkOutcome(db, sandbox, [w.id])
    expect(problems(outcome)).toEqual(none)
    // Without that modify, the operator's price and size were never asked.
    await db.update(outbox).set({ payload: { price: '1940', size: '0.08', follows: first.id } }).where(eq(outbox.id, row.id))
    expect(problems(await checkOutcome(db, sandbox, [w.id]))).toEqual({ ...none, modifiesWrong: 1 })
  })

  it('an order at a price/size the user never asked (no modify at all), both sides agreeing: counted', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id) // the user asked 1950 x 0.05
    const order = await newOrder(w.id, intent.id, 0, { price: '1960', size: '0.07' })
    const outcome = await checkOutcome(db, fakeSandbox(w.address, { [order.clientOrderId]: { ...open, price: amt('1960'), size: amt('0.07') } }), [w.id])
    expect(problems(outcome)).toEqual({ ...none, modifiesWrong: 1 })
  })

  it('a modification at the operator that no modify asked: counted', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id)
    const order = await newOrder(w.id, intent.id, 0, { price: '1940', size: '0.08' })
    const sandbox = fakeSandbox(w.address, { [order.clientOrderId]: { ...open, price: amt('1940'), size: amt('0.08'), revision: 1 } }, {
      events: [{ seq: '2', type: 'OrderModified', at: T0, clientOrderId: order.clientOrderId, data: { price: '1940', size: '0.08' } }],
    })
    expect((await checkOutcome(db, sandbox, [w.id])).modifiesWrong).toBeGreaterThanOrEqual(1)
  })

  it('an intent nobody cancelled, dropped before placement: lost, not "cancelled before placement"', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'cancelled')
    await newOrder(w.id, intent.id, 0, { state: 'cancelled', venueOrderId: null })
    const outcome = await checkOutcome(db, fakeSandbox(w.address, {}), [w.id])
    expect(outcome.cancelledBeforePlacement).toBe(0)
    expect(problems(outcome)).toEqual({ ...none, lost: 1 })
  })

  it('fills differing: average price, fees, a fill row missing, and a fill row the operator never made', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id)
    const size = amt('0.05')
    const order = await newOrder(w.id, intent.id, 0, { state: 'filled', filled: '0.05', filledNotional: String(amt('1950') * size), averagePrice: '1950', fees: '999' })
    await db.insert(fills).values({ walletId: w.id, orderId: order.id, fillId: '999', clientOrderId: order.clientOrderId, market: 'ETH-USD', side: 0, price: '1950', size: '0.05', fee: '0', seq: 3, at: new Date() })
    const sandbox = fakeSandbox(w.address, { [order.clientOrderId]: { ...open, status: 'filled', filled: size } }, {
      fills: [{ fillId: '71', seq: '3', clientOrderId: order.clientOrderId, price: amt('2000'), size, fee: amt('0.05') }],
    })
    const outcome = await checkOutcome(db, sandbox, [w.id])
    expect(problems(outcome)).toEqual({ ...none, fillsDiffering: 2 })
    expect(outcome.examples.join('\n')).toMatch(/average price 1950\S* vs 2000.*fees 999\S* vs 0\.05.*fill \S*:71 missing.*fill row 999 .*not a fill at the operator/s)
  })

  it('a placed clientRef with no intent in Postgres: lost', async () => {
    const w = await newWallet()
    const asked: AskedIntent[] = [{ clientRef: 'gone', price: '1950', size: '0.05', modifies: [], cancels: [] }]
    const outcome = await checkOutcome(db, fakeSandbox(w.address, {}), [w.id], asked)
    expect(problems(outcome)).toEqual({ ...none, lost: 1 })
  })

  it('an intent recorded at another price than the workload asked: counted', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'active', 0, 'p1')
    const order = await newOrder(w.id, intent.id, 0)
    const asked: AskedIntent[] = [{ clientRef: 'p1', price: '1900', size: '0.05', modifies: [], cancels: [] }]
    const outcome = await checkOutcome(db, fakeSandbox(w.address, { [order.clientOrderId]: open }), [w.id], asked)
    expect(problems(outcome)).toEqual({ ...none, modifiesWrong: 1 })
  })
})

describe('checkOutcome: what the drill must not let through', () => {
  it('a cancel row the workload never asked, whatever its reason (a worker-made late cancel, say), that cancelled the order: counted', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'active', 0, 's1')
    const order = await newOrder(w.id, intent.id, 0, { state: 'cancelled', cancelReason: 'user' })
    await newRow(w.id, order.id, 'CancelOrder', { reason: 'cancelAll' }, 'done')
    const sandbox = fakeSandbox(w.address, { [order.clientOrderId]: { ...open, status: 'cancelled' } }, {
      events: [{ seq: '2', type: 'OrderCancelled', at: T0, clientOrderId: order.clientOrderId, data: { reason: 'user' } }],
    })
    const asked: AskedIntent[] = [{ clientRef: 's1', price: '1950', size: '0.05', modifies: [], cancels: [] }]
    const outcome = await checkOutcome(db, sandbox, [w.id], asked)
    expect(problems(outcome)).toEqual({ ...none, cancelsWrong: 1 })
    expect(outcome.examples.join('\n')).toMatch(/cancel row .* \(reason cancelAll\) that the user never asked/)
  })

  it('a modify row the workload never asked, applied at the operator: counted', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'active', 0, 'm1')
    const order = await newOrder(w.id, intent.id, 0, { price: '1940', size: '0.08', venueRevision: 1 })
    await newRow(w.id, order.id, 'ModifyOrder', { price: '1940.00', size: '0.080' }, 'done')
    const sandbox = fakeSandbox(w.address, { [order.clientOrderId]: { ...open, price: amt('1940'), size: amt('0.08'), revision: 1 } }, {
      events: [{ seq: '2', type: 'OrderModified', at: T0, clientOrderId: order.clientOrderId, data: { price: '1940', size: '0.08', revision: 1 } }],
    })
    const asked: AskedIntent[] = [{ clientRef: 'm1', price: '1950', size: '0.05', modifies: [], cancels: [] }]
    const outcome = await checkOutcome(db, sandbox, [w.id], asked)
    expect(problems(outcome)).toEqual({ ...none, modifiesWrong: 1 })
    expect(outcome.examples.join('\n')).toMatch(/never asked/)
  })

  it('an IOC whose remainder the operator cancelled, placed again as a replacement: a duplicate (only a session\'s end explains one)', async () => {
    const w = await newWallet()
    const intent = await newIntent(w.id, 'active', 1)
    const second = await newOrder(w.id, intent.id, 1, { venueOrderId: '2', timeInForce: 1 })
    const first = await newOrder(w.id, intent.id, 0, { state: 'cancelled', cancelReason: 'ioc', timeInForce: 1, replacedBy: second.id })
    const sandbox = fakeSandbox(w.address, { [first.clientOrderId]: { ...open, status: 'cancelled' }, [second.clientOrderId]: open }, {
      events: [{ seq: '2', type: 'OrderCancelled', at: T0, clientOrderId: first.clientOrderId, data: { reason: 'ioc' } }],
    })
    expect(problems(await checkOutcome(db, sandbox, [w.id]))).toEqual({ ...none, duplicates: 1 })
  })

  it('an intent the workload never placed, with its order live at the operator: counted as a duplicate', async () => {
    const w = await newWallet()
    const placed = await newOrder(w.id, (await newIntent(w.id, 'active', 0, 'u1')).id, 0)
    const extra = await newOrder(w.id, (await newIntent(w.id, 'active', 0, 'u1-again')).id, 0, { venueOrderId: '2' })
    const sandbox = fakeSandbox(w.address, { [placed.clientOrderId]: open, [extra.clientOrderId]: open })
    const asked: AskedIntent[] = [{ clientRef: 'u1', price: '1950', size: '0.05', modifies: [], cancels: [] }]
    const outcome = await checkOutcome(db, sandbox, [w.id], asked)
    expect(problems(outcome)).toEqual({ ...none, duplicates: 1 })
    expect(outcome.examples.join('\n')).toMatch(/u1-again.*never placed/)
  })

  it('the run\'s own problems fail it like the outcome\'s: a submit job failed for good, a worker that did not stop cleanly, a crash', async () => {
    const w = await newWallet()
    const outcome = await checkOutcome(db, fakeSandbox(w.address, {}), [w.id], [])
    const failing = (run: { crashes: number; failedSubmitJobs: number; uncleanStops: number }) => problemRows(outcome, run).filter(([, n]) => n !== 0)
    expect(failing({ crashes: 0, failedSubmitJobs: 0, uncleanStops: 0 })).toEqual([])
    expect(failing({ crashes: 0, failedSubmitJobs: 2, uncleanStops: 0 })).toEqual([['submit jobs failed for good', 2]])
    expect(failing({ crashes: 0, failedSubmitJobs: 0, uncleanStops: 1 })).toEqual([['worker processes not stopped cleanly', 1]])
    expect(failing({ crashes: 1, failedSubmitJobs: 0, uncleanStops: 0 })).toEqual([['worker processes that crashed', 1]])
  })
})
