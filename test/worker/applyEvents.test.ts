import { and, eq, sql } from 'drizzle-orm'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyEventRuns, applyEvents } from '../../jobs/applyEvent.js'
import { deriveClientOrderId } from '../../src/core/requests/deriveClientOrderId.js'
import type { WorkerDeps } from '../../src/runtime/deps.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel, requestCancelAll, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { grantSession } from '../../src/runtime/sessions/grantSession.js'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { replaceSessionOrder } from '../../src/runtime/sessions/replaceSessionOrder.js'
import { mutateOrder } from '../../src/store/repositories/mutateOrder.js'
import { passedOverFills } from '../../src/store/repositories/passedOverFills.js'
import { pruneHistory } from '../../src/store/repositories/pruneHistory.js'
import { linkUnmatchedFills, recordFill } from '../../src/store/repositories/recordFill.js'
import { auditLog, fills, orders, outbox, sessions, streamCursors } from '../../src/store/schema/index.js'
import { snapshotUpdate } from '../../src/venue/snapshotUpdate.js'
import { submitCancelOrderSpec } from '../../jobs/submitCancelOrder.js'
import { submitModifyOrderSpec } from '../../jobs/submitModifyOrder.js'
import type { VenueEvent } from '../../src/venue/types.js'
import { unreadableFrameStandIn } from '../../src/venue/unreadableFrame.js'
import { createHarness, type Harness } from './support/harness.js'

let h: Harness
beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

/** A development wallet's buy of `size` ETH at `price`, placed at intake (nothing sent yet). */
async function placedBuy(price = '1900', size = '1') {
  const markets = await h.markets()
  const w = await h.wallet()
  const { order } = await placeLimitOrder(h.db, markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price, size }, new Date())
  return { markets, ...w, order }
}

/** A maker of one order's events, numbered from seq 1 (its wallet's only ones), as the operator sends them. */
function eventsOf(address: Hex, order: { clientOrderId: string }, venueOrderId: string) {
  let seq = 0
  return (type: VenueEvent['type'], data: Record<string, unknown> = {}): VenueEvent =>
    ({ seq: String(++seq), type, wallet: address, at: Date.now(), clientOrderId: order.clientOrderId as Hex, orderId: venueOrderId, data })
}

describe('a run of events applied together', () => {
  it('applies each order change once, in seq order, and counts each fill once, also one the reconciler recorded first', async () => {
    const markets = await h.markets()
    const { wallet, signer } = await h.wallet()
    const place = async (price: string) => (await placeLimitOrder(h.db, markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price, size: '1' }, new Date())).order
    const a = await place('1900')
    const b = await place('1901')
    const at = Date.now()
    let seq = 0
    const event = (type: VenueEvent['type'], cloid: string, data: Record<string, unknown> = {}): VenueEvent =>
      ({ seq: String(++seq), type, wallet: signer.address, at, clientOrderId: cloid as Hex, orderId: `V-${cloid.slice(2, 8)}`, data })
    const fill = (cloid: string, fillId: string, size: string, price: string) =>
      event('OrderFilled', cloid, { fillId, market: 'ETH-USD', side: 'buy', price, size, fee: '0.01' })

    // The reconciler recorded a's second fill before the stream delivered it.
    await h.db.transaction((tx) => recordFill(tx, { walletId: wallet.id, fillId: 'a-2', clientOrderId: a.clientOrderId, market: 'ETH-USD', side: 0, price: '1900', size: '0.3', fee: '0.01', seq: 99, at: new Date(at) }))

    const run = [
      event('OrderAccepted', a.clientOrderId),
      event('OrderAccepted', b.clientOrderId),
      fill(a.clientOrderId, 'a-1', '0.2', '1900'),
      fill(a.clientOrderId, 'a-2', '0.3', '1900'),
      event('OrderModified', b.clientOrderId, { price: '1890', size: '2', revision: 1 }),
      fill(b.clientOrderId, 'b-1', '0.5', '1890'),
      fill(a.clientOrderId, 'a-1', '0.2', '1900'),
      event('OrderCancelled', b.clientOrderId, { reason: 'user' }),
    ]
    // Delivered twice and shuffled: the second delivery is at or below the cursor and changes nothing.
    expect(await applyEvents(h.db, wallet.id, run)).toHaveLength(run.length)
    expect(await applyEvents(h.db, wallet.id, [...run].reverse())).toHaveLength(0)

    const [orderA] = await h.db.select().from(orders).where(eq(orders.id, a.id))
    const [orderB] = await h.db.select().from(orders).where(eq(orders.id, b.id))
    // a: 0.2 from the stream, 0.3 recorded by the reconciler (counted there), the repeat of a-1 ignored.
    expect(orderA).toMatchObject({ state: 'partially_filled', filled: '0.500000000000000000', venueOrderId: `V-${a.clientOrderId.slice(2, 8)}` })
    expect(orderB).toMatchObject({ state: 'cancelled', price: '1890.000000000000000000', size: '2.000000000000000000', venueRevision: 1, filled: '0.500000000000000000', cancelReason: 'user' })
    expect(Number(orderB!.averagePrice)).toBe(1890)
    const recorded = await h.db.select().from(fills).where(eq(fills.walletId, wallet.id))
    expect(recorded.map((f) => f.fillId).sort()).toEqual(['a-1', 'a-2', 'b-1'])
    expect(recorded.every((f) => f.orderId === (f.fillId.startsWith('a') ? a.id : b.id))).toBe(true)
  })

  it('counts two fills whose ids differ only in case as two (fill ids are the operator\'s opaque strings)', async () => {
    const markets = await h.markets()
    const { wallet, signer } = await h.wallet()
    const { order } = await placeLimitOrder(h.db, markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '1' }, new Date())
    const base = { wallet: signer.address, at: Date.now(), clientOrderId: order.clientOrderId as Hex, orderId: 'V-case' }
    const fill = (seq: string, fillId: string, size: string): VenueEvent => ({ ...base, seq, type: 'OrderFilled', data: { fillId, price: '1900', size, fee: '0.1' } })
    await applyEvents(h.db, wallet.id, [{ ...base, seq: '1', type: 'OrderAccepted', data: {} }, fill('2', 'aB3x', '0.2'), fill('3', 'Ab3X', '0.3')])
    const [row] = await h.db.select().from(orders).where(eq(orders.id, order.id))
    expect(row).toMatchObject({ state: 'partially_filled', filled: '0.500000000000000000', fees: '0.200000000000000000' })
    expect((await h.db.select().from(fills).where(eq(fills.walletId, wallet.id))).map((f) => f.fillId).sort()).toEqual(['Ab3X', 'aB3x'])
  })

  it('stores an event ahead of a gap and applies it, with the orders it names, when the gap is filled', async () => {
    const markets = await h.markets()
    const { wallet, signer } = await h.wallet()
    const { order } = await placeLimitOrder(h.db, markets, { walletId: wallet.id, market: 'ETH-USD', side: 'sell', price: '2100', size: '1' }, new Date())
    const base = { wallet: signer.address, at: Date.now(), clientOrderId: order.clientOrderId as Hex, orderId: 'V-gap' }
    const accepted: VenueEvent = { ...base, seq: '1', type: 'OrderAccepted', data: {} }
    const filled: VenueEvent = { ...base, seq: '3', type: 'OrderFilled', data: { fillId: 'g-1', market: 'ETH-USD', side: 'sell', price: '2100', size: '1', fee: '0' } }
    const modified: VenueEvent = { ...base, seq: '2', type: 'OrderModified', data: { price: '2100', size: '1', revision: 1 } }
    expect(await applyEvents(h.db, wallet.id, [accepted, filled])).toEqual([accepted])
    const state = async () => (await h.db.select().from(orders).where(eq(orders.id, order.id)))[0]!
    expect((await state()).state).toBe('open')
    expect((await applyEvents(h.db, wallet.id, [modified])).map((e) => e.seq)).toEqual(['2', '3'])
    expect(await state()).toMatchObject({ state: 'filled', venueRevision: 1, filled: '1.000000000000000000' })
  })
})

describe('a fill as PROTOCOL.md describes it (fillId, price, size, fee, remaining: no market, no side)', () => {
  it("is stored with its order's market and side, also when its order becomes known only later", async () => {
    const markets = await h.markets()
    const { wallet, signer } = await h.wallet()
    const { order } = await placeLimitOrder(h.db, markets, { walletId: wallet.id, market: 'BTC-USD', side: 'sell', price: '60000', size: '0.1' }, new Date())
    const orphanCloid = `0x${'ab'.repeat(16)}` as Hex
    const base = { wallet: signer.address, at: Date.now() }
    const run: VenueEvent[] = [
      { ...base, seq: '1', type: 'OrderAccepted', clientOrderId: order.clientOrderId as Hex, orderId: 'V-s', data: {} },
      { ...base, seq: '2', type: 'OrderFilled', clientOrderId: order.clientOrderId as Hex, orderId: 'V-s', data: { fillId: 's-1', price: '60000', size: '0.04', fee: '0.1', remaining: '0.06' } },
      // An order this database does not know yet (placed by another client of the wallet).
      { ...base, seq: '3', type: 'OrderFilled', clientOrderId: orphanCloid, orderId: 'V-o', data: { fillId: 'o-1', price: '2000', size: '1', fee: '0.1', remaining: '0' } },
    ]
    expect(await applyEvents(h.db, wallet.id, run)).toHaveLength(3)
    const stored = async (fillId: string) => (await h.db.select().from(fills).where(and(eq(fills.walletId, wallet.id), eq(fills.fillId, fillId))))[0]!
    expect(await stored('s-1')).toMatchObject({ orderId: order.id, market: 'BTC-USD', side: 1 })
    expect(await stored('o-1')).toMatchObject({ orderId: null })

    // Reconciliation adopts the order: the fill is linked and takes its market and side.
    const [adopted] = await h.db.insert(orders).values({
      walletId: wallet.id, clientOrderId: orphanCloid, market: 'ETH-USD', side: 1, price: '2000', size: '1', timeInForce: 0, state: 'open',
    }).returning()
    await h.db.transaction((tx) => linkUnmatchedFills(tx, wallet.id))
    expect(await stored('o-1')).toMatchObject({ orderId: adopted!.id, market: 'ETH-USD', side: 1 })
  })
})

describe('an order rejected and then accepted under the same cloid', () => {
  it('is open, without the rejection, when a resend after a lost rejection was accepted', async () => {
    const markets = await h.markets()
    const { wallet, signer } = await h.wallet()
    const { order } = await placeLimitOrder(h.db, markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '1' }, new Date())
    // The first attempt's answer was lost (unknown); the stream then said the operator rejected it, as its receipt would have.
    await h.db.update(orders).set({ state: 'unknown' }).where(eq(orders.id, order.id))
    const base = { wallet: signer.address, at: Date.now(), clientOrderId: order.clientOrderId as Hex, orderId: 'V-again' }
    await applyEvents(h.db, wallet.id, [{ ...base, seq: '1', type: 'OrderRejected', data: { code: 'InsufficientBalance' } }])
    await h.db.update(orders).set({ rejectReason: 'USD available 0 is below what this order needs' }).where(eq(orders.id, order.id))
    const state = async () => (await h.db.select().from(orders).where(eq(orders.id, order.id)))[0]!
    expect(await state()).toMatchObject({ state: 'rejected', rejectCode: 'InsufficientBalance' })
    // Funds arrived; the retry sent the same cloid again and the operator accepted it.
    await applyEvents(h.db, wallet.id, [{ ...base, seq: '2', type: 'OrderAccepted', data: {} }])
    expect(await state()).toMatchObject({ state: 'open', rejectCode: null, rejectReason: null, venueOrderId: 'V-again' })
  })
})

describe('events of several wallets applied together', () => {
  it('applies each wallet in its own seq order with its own cursor; a gap in one holds only that one; a repeated wallet is answered once', async () => {
    const markets = await h.markets()
    const one = await h.wallet()
    const two = await h.wallet()
    const place = async (walletId: string) => (await placeLimitOrder(h.db, markets, { walletId, market: 'ETH-USD', side: 'buy', price: '1950', size: '1' }, new Date())).order
    const a = await place(one.wallet.id)
    const b = await place(two.wallet.id)
    const at = Date.now()
    const of = (address: string, cloid: string) => (seq: number, type: VenueEvent['type'], data: Record<string, unknown> = {}): VenueEvent =>
      ({ seq: String(seq), type, wallet: address as Hex, at, clientOrderId: cloid as Hex, orderId: `V-${cloid.slice(2, 8)}`, data })
    const ea = of(one.signer.address, a.clientOrderId)
    const eb = of(two.signer.address, b.clientOrderId)
    // Both wallets use the same fill id: fills are unique per wallet, not across wallets.
    const fillData = { fillId: 'same-id', market: 'ETH-USD', side: 'buy', price: '1950', size: '0.4', fee: '0' }

    const answered = await applyEventRuns(h.db, [
      { walletId: one.wallet.id, events: [ea(1, 'OrderAccepted'), ea(2, 'OrderFilled', fillData)] },
      // Wallet two's seq 3 is missing: its cancel waits, stored.
      { walletId: two.wallet.id, events: [eb(1, 'OrderAccepted'), eb(2, 'OrderFilled', fillData), eb(4, 'OrderCancelled', { reason: 'user' })] },
      { walletId: one.wallet.id, events: [ea(3, 'OrderCancelled', { reason: 'user' })] },
    ])
    expect(answered.map((run) => run.map((e) => Number(e.seq)))).toEqual([[1, 2, 3], [1, 2], []])

    const state = async (id: string) => (await h.db.select().from(orders).where(eq(orders.id, id)))[0]!
    expect(await state(a.id)).toMatchObject({ state: 'cancelled', filled: '0.400000000000000000', cancelReason: 'user' })
    expect(await state(b.id)).toMatchObject({ state: 'partially_filled', filled: '0.400000000000000000' })
    const cursor = async (walletId: string) => (await h.db.select().from(streamCursors).where(eq(streamCursors.walletId, walletId)))[0]!.lastSeq
    expect([await cursor(one.wallet.id), await cursor(two.wallet.id)]).toEqual([3, 2])

    // The gap filled: wallet two's stored cancel follows; wallet one's repeat changes nothing.
    const again = await applyEventRuns(h.db, [
      { walletId: two.wallet.id, events: [eb(3, 'OrderModified', { price: '1950', size: '1', revision: 1 })] },
      { walletId: one.wallet.id, events: [ea(2, 'OrderFilled', fillData)] },
    ])
    expect(again.map((run) => run.map((e) => Number(e.seq)))).toEqual([[3, 4], []])
    expect(await state(b.id)).toMatchObject({ state: 'cancelled', filled: '0.400000000000000000', venueRevision: 1, cancelReason: 'user' })
    expect(await state(a.id)).toMatchObject({ filled: '0.400000000000000000' })
    expect([await cursor(one.wallet.id), await cursor(two.wallet.id)]).toEqual([3, 4])
    const recorded = await h.db.select({ walletId: fills.walletId, orderId: fills.orderId }).from(fills).where(eq(fills.fillId, 'same-id'))
    expect(recorded.sort((x, y) => x.walletId.localeCompare(y.walletId))).toEqual(
      [{ walletId: one.wallet.id, orderId: a.id }, { walletId: two.wallet.id, orderId: b.id }].sort((x, y) => x.walletId.localeCompare(y.walletId)))
  })
})

describe('an order its session\'s end cancelled', () => {
  it('is placed again once when an operator read recorded the cancel before the stream did, and never a second time', async () => {
    const markets = await h.markets()
    const { wallet, signer } = await h.wallet()
    const { order } = await placeLimitOrder(h.db, markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '1' }, new Date())
    let seq = 0
    const event = (type: VenueEvent['type'], cloid: string, data: Record<string, unknown> = {}): VenueEvent =>
      ({ seq: String(++seq), type, wallet: signer.address, at: Date.now(), clientOrderId: cloid as Hex, orderId: `V-${cloid.slice(2, 8)}`, data })
    const fillData = (fillId: string, size: string) => ({ fillId, market: 'ETH-USD', side: 'buy', price: '1900', size, fee: '0' })
    await applyEvents(h.db, wallet.id, [event('OrderAccepted', order.clientOrderId), event('OrderFilled', order.clientOrderId, fillData('r-1', '0.25'))])

    // The session was revoked at the operator; a reconcile read the order (no reason in a read) before the stream delivered its cancel.
    await h.db.transaction((tx) => mutateOrder(tx, { id: order.id }, [snapshotUpdate({
      clientOrderId: order.clientOrderId as Hex, orderId: 'V-read', market: 'ETH-USD', side: 0, price: '1900', size: '1', filled: '0.25',
      averagePrice: '1900', status: 'cancelled', revision: 0, updatedAt: Date.now(),
    })]))
    const state = async (id: string) => (await h.db.select().from(orders).where(eq(orders.id, id)))[0]!
    expect(await state(order.id)).toMatchObject({ state: 'cancelled', cancelReason: null, replacedBy: null })

    await applyEvents(h.db, wallet.id, [event('OrderCancelled', order.clientOrderId, { reason: 'sessionRevoked' })])
    const ofIntent = async () => h.db.select().from(orders).where(eq(orders.intentId, order.intentId!))
    const [replacement, ...more] = (await ofIntent()).filter((o) => o.id !== order.id)
    expect(more).toEqual([])
    expect(replacement).toMatchObject({ state: 'pending', price: '1900.000000000000000000', size: '0.750000000000000000', clientOrderId: deriveClientOrderId(order.intentId!, 1) })
    expect(await state(order.id)).toMatchObject({ state: 'cancelled', cancelReason: 'sessionRevoked', replacedBy: replacement!.id })
    const work = await h.db.select().from(outbox).where(eq(outbox.orderId, replacement!.id))
    expect(work.map((w) => [w.kind, w.payload])).toEqual([['Order', { replaces: order.id }]])

    // The replacement filled, so no live order is left for the intent; the same cancel delivered again (a new seq,
    // as after a replay) still places nothing more.
    await applyEvents(h.db, wallet.id, [event('OrderAccepted', replacement!.clientOrderId), event('OrderFilled', replacement!.clientOrderId, fillData('r-2', '0.75'))])
    expect((await state(replacement!.id)).state).toBe('filled')
    await applyEvents(h.db, wallet.id, [event('OrderCancelled', order.clientOrderId, { reason: 'sessionRevoked' })])
    expect((await ofIntent()).map((o) => o.id).sort()).toEqual([order.id, replacement!.id].sort())
  })

  it('moves a modify queued for it to the replacement (size less what it filled), waits a while for the stream after a read, and refuses a size it already filled', async () => {
    const { markets, wallet, signer, order } = await placedBuy()
    const event = eventsOf(signer.address, order, 'V-follow')
    await applyEvents(h.db, wallet.id, [event('OrderAccepted')])
    const grows = await requestModify(h.db, markets, { orderId: order.id, price: '1910', size: '0.9' })
    // Queued before the fill was known (intake refuses a size at or below a fill it knows of).
    const tooSmall = await requestModify(h.db, markets, { orderId: order.id, price: '1910', size: '0.2' })
    await applyEvents(h.db, wallet.id, [event('OrderFilled', { fillId: 'f-1', market: 'ETH-USD', side: 'buy', price: '1900', size: '0.25', fee: '0' })])
    // The claim is given only a worker's clock (`nowMs`), which it must not go by.
    const claim = async (outboxId: string, nowMs = Date.now()) => {
      const [row] = await h.db.select().from(outbox).where(eq(outbox.id, outboxId))
      const [current] = await h.db.select().from(orders).where(eq(orders.id, row!.orderId!))
      return h.db.transaction((tx) => submitModifyOrderSpec.claim(tx, { deps: { now: () => nowMs } as unknown as WorkerDeps, row: row!, order: current }))
    }

    // A reconcile read the order cancelled (no reason): the modify waits for the stream, for a minute.
    await h.db.transaction((tx) => mutateOrder(tx, { id: order.id }, [snapshotUpdate({
      clientOrderId: order.clientOrderId as Hex, orderId: 'V-follow', market: 'ETH-USD', side: 0, price: '1900', size: '1', filled: '0.25',
      averagePrice: '1900', status: 'cancelled', revision: 0, updatedAt: Date.now(),
    })]))
    expect((await claim(grows.outboxId)).kind).toBe('wait')
    // The minute is Postgres's, which dated the read: a worker whose clock runs a minute ahead waits too.
    expect((await claim(grows.outboxId, Date.now() + 61_000)).kind).toBe('wait')
    await h.db.update(orders).set({ updatedAt: sql`now() - interval '61 seconds'` }).where(eq(orders.id, order.id))
    expect(await claim(grows.outboxId)).toEqual({ kind: 'done', reason: 'order cancelled: modification not applied' })

    // The stream says its session's end cancelled it: placed again for the 0.75 not filled, and the modify moves there.
    await applyEvents(h.db, wallet.id, [event('OrderCancelled', { reason: 'sessionRevoked' })])
    const [{ replacedBy }] = await h.db.select({ replacedBy: orders.replacedBy }).from(orders).where(eq(orders.id, order.id)) as [{ replacedBy: string }]
    expect(await claim(grows.outboxId)).toEqual({ kind: 'wait', reason: 'moved to the replacement order' })
    const [moved] = await h.db.select().from(outbox).where(eq(outbox.id, grows.outboxId))
    expect([moved!.orderId, moved!.payload]).toEqual([replacedBy, { price: '1910', size: '0.65', follows: order.id }])
    const followed = await h.db.select().from(auditLog).where(and(eq(auditLog.walletId, wallet.id), eq(auditLog.action, 'ModifyOrder.followed')))
    expect(followed.map((a) => a.details)).toEqual([{ outboxId: grows.outboxId, from: order.id, to: replacedBy, size: '0.65' }])
    // On the replacement it waits for the replacement's acknowledgement, as any modify.
    expect(await claim(grows.outboxId)).toEqual({ kind: 'wait', reason: 'the order is not acknowledged yet' })

    // A new total at or below what the cancelled order filled cannot apply to the replacement.
    expect(await claim(tooSmall.outboxId)).toEqual({
      kind: 'done', reason: `order cancelled when its session ended and placed again as ${replacedBy}: modification not applied (size 0.2 does not exceed the 0.25 it filled)`,
    })
    expect((await h.db.select().from(outbox).where(eq(outbox.id, tooSmall.outboxId)))[0]!.orderId).toBe(order.id)
  })
})

describe('an order an operator read showed cancelled, that the user then asks to cancel', () => {
  it('is not placed again when the stream says its session\'s end cancelled it', async () => {
    const { wallet, signer, order } = await placedBuy()
    const event = eventsOf(signer.address, order, 'V-asked')
    await applyEvents(h.db, wallet.id, [event('OrderAccepted')])
    // The session was revoked at the operator; a read (a reconcile, a read-back) saw the order cancelled, with no reason.
    await h.db.transaction((tx) => mutateOrder(tx, { id: order.id }, [snapshotUpdate({
      clientOrderId: order.clientOrderId as Hex, orderId: 'V-asked', market: 'ETH-USD', side: 0, price: '1900', size: '1', filled: '0',
      averagePrice: null, status: 'cancelled', revision: 0, updatedAt: Date.now(),
    })]))
    // The user, who still sees the order, asks to cancel it: it must stay gone.
    const asked = await requestCancel(h.db, { orderId: order.id }).catch((error: unknown) => error)
    await applyEvents(h.db, wallet.id, [event('OrderCancelled', { reason: 'sessionRevoked' })])
    expect((await h.db.select().from(orders).where(eq(orders.intentId, order.intentId!))).map((o) => [o.id, o.state, o.replacedBy])).toEqual([[order.id, 'cancelled', null]])
    // The cancel is taken, and its work settles without a request: the order is already cancelled.
    expect(asked).toEqual({ outboxId: expect.any(String) })
    const [row] = await h.db.select().from(outbox).where(eq(outbox.id, (asked as { outboxId: string }).outboxId))
    const [current] = await h.db.select().from(orders).where(eq(orders.id, order.id))
    expect(await h.db.transaction((tx) => submitCancelOrderSpec.claim(tx, { deps: {} as WorkerDeps, row: row!, order: current }))).toEqual({ kind: 'done', reason: 'order already cancelled' })
  })

  it('is refused as before when its cancel is known (a user\'s) or it was placed again', async () => {
    const { order } = await placedBuy()
    await h.db.update(orders).set({ state: 'cancelled', cancelReason: 'user' }).where(eq(orders.id, order.id))
    await expect(requestCancel(h.db, { orderId: order.id })).rejects.toThrow('the order is cancelled; it cannot be cancelled')
    const [replacement] = await h.db.insert(orders).values({ ...order, id: undefined, clientOrderId: deriveClientOrderId(order.intentId!, 1), createdAt: undefined, updatedAt: undefined }).returning()
    await h.db.update(orders).set({ cancelReason: null, replacedBy: replacement!.id }).where(eq(orders.id, order.id))
    await expect(requestCancel(h.db, { orderId: order.id })).rejects.toThrow(`placed again as ${replacement!.id}: use that order`)
    expect(await h.db.select().from(outbox).where(and(eq(outbox.orderId, order.id), eq(outbox.kind, 'CancelOrder')))).toEqual([])
  })
})

describe('an order whose placement work was pruned (RETENTION_DAYS)', () => {
  it('is not placed again when its session ends after a CancelAll of its market was asked', async () => {
    const { wallet, order } = await placedBuy('1900', '0.4')
    // Placed and live at the operator for longer than the retention: its settled Order row is pruned.
    await h.db.update(outbox).set({ status: 'done' }).where(eq(outbox.orderId, order.id))
    await h.db.update(orders).set({ state: 'open' }).where(eq(orders.id, order.id))
    const longAgo = new Date(Date.now() - 40 * 24 * 3600_000)
    await h.db.update(outbox).set({ availableAt: longAgo, updatedAt: longAgo }).where(eq(outbox.orderId, order.id))
    await pruneHistory(h.db, { before: new Date(Date.now() - 30 * 24 * 3600_000) })
    expect(await h.db.select().from(outbox).where(eq(outbox.orderId, order.id))).toEqual([])
    // The user asks to cancel everything in ETH-USD; before that lands, the session ends and the operator cancels the order.
    await requestCancelAll(h.db, { walletId: wallet.id, market: 'ETH-USD' })
    const [cancelled] = await h.db.update(orders).set({ state: 'cancelled', cancelReason: 'sessionRevoked' }).where(eq(orders.id, order.id)).returning()
    // Placed again now, it would be queued after the CancelAll and escape it.
    expect(await h.db.transaction((tx) => replaceSessionOrder(tx, cancelled!))).toBeUndefined()
    expect((await h.db.select().from(orders).where(eq(orders.intentId, order.intentId!))).map((o) => o.id)).toEqual([order.id])
  })
})

describe('an order live through a halt whose CancelAll was refused', () => {
  it('is placed again when its session ends after the resume: the refused CancelAll cancelled nothing', async () => {
    const { wallet, order } = await placedBuy('1990', '0.4')
    // Placed and live at the operator.
    await h.db.update(outbox).set({ status: 'done' }).where(eq(outbox.orderId, order.id))
    await h.db.update(orders).set({ state: 'open' }).where(eq(orders.id, order.id))
    await haltWallet(h.db, { walletId: wallet.id, reason: 'test' })
    // The halt's CancelAll was refused (a scope without cancels): the order stayed live.
    await h.db.update(outbox).set({ status: 'failed', lastError: 'LOCAL.ACL_SCOPE' }).where(and(eq(outbox.walletId, wallet.id), eq(outbox.kind, 'CancelAll')))
    await resumeWallet(h.db, { walletId: wallet.id })
    // Then a rotation revokes its session, and the operator cancels it (sessionRevoked).
    const [cancelled] = await h.db.update(orders).set({ state: 'cancelled', cancelReason: 'sessionRevoked' }).where(eq(orders.id, order.id)).returning()
    const replacement = await h.db.transaction((tx) => replaceSessionOrder(tx, cancelled!))
    expect(replacement).toMatchObject({ state: 'pending', size: '0.400000000000000000' })
  })
})

describe('sessions ended at the operator', () => {
  it("marks the wallet's active session revoked and failed on SessionRevoked; a rotated-out one revoked or a session expired is no failure", async () => {
    const { wallet, signer, session: first } = await h.wallet()
    // A second grant rotates the first out.
    const { session: second } = await grantSession({
      db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: signer, walletId: wallet.id,
      families: ['Order', 'CancelOrder'], lifetimeSeconds: 24 * 3600, nowMs: Date.now(),
    })
    const other = await h.wallet()
    const at = Date.now() - 1_000
    let seq = 0
    const ended = (type: 'SessionRevoked' | 'SessionExpired', delegation: string | null, address = signer.address): VenueEvent =>
      ({ seq: String(++seq), type, wallet: address, at, data: { delegation } })
    await applyEvents(h.db, wallet.id, [ended('SessionRevoked', first.delegationHash), ended('SessionRevoked', second.delegationHash)])
    const [rotatedOut, active] = await Promise.all([first, second].map(async (s) => (await h.db.select().from(sessions).where(eq(sessions.id, s.id)))[0]!))
    expect(rotatedOut).toMatchObject({ status: 'revoked', statusReason: 'operator event SessionRevoked', failedAt: null })
    // When it ended there (the operator's clock), and when the worker learnt it failed (its own, which the grant backoff is timed on).
    expect(active).toMatchObject({ status: 'revoked', statusReason: 'operator event SessionRevoked', revokedAt: new Date(at), failedAt: expect.any(Date) })
    expect(active!.failedAt!.getTime()).toBeGreaterThan(at)

    // The hash as an operator may write it (hex is case-insensitive): the same session.
    seq = 0
    await applyEvents(h.db, other.wallet.id, [ended('SessionExpired', `0x${other.session.delegationHash!.slice(2).toUpperCase()}`, other.signer.address)])
    expect((await h.db.select().from(sessions).where(eq(sessions.id, other.session.id)))[0]).toMatchObject({ status: 'expired', failedAt: null })
  })
})

describe('an OrderModified whose revision Postgres cannot store', () => {
  it('is passed over as unappliable, and the wallet\'s later events still apply', async () => {
    const { wallet, signer, order } = await placedBuy()
    const event = eventsOf(signer.address, order, 'V-rev')
    const run = [
      event('OrderAccepted'),
      // Past a 32-bit integer (the revision column): before, the whole batch failed here, every time.
      event('OrderModified', { price: '1900', size: '1', revision: 2 ** 31 }),
      event('OrderFilled', { fillId: 'rev-1', price: '1900', size: '0.25', fee: '0' }),
    ]
    expect((await applyEvents(h.db, wallet.id, run)).map((e) => e.seq)).toEqual(['1', '2', '3'])
    expect((await h.db.select().from(orders).where(eq(orders.id, order.id)))[0]).toMatchObject({ state: 'partially_filled', filled: '0.250000000000000000', venueRevision: 0 })
    const passed = await h.db.select().from(auditLog).where(and(eq(auditLog.walletId, wallet.id), eq(auditLog.action, 'event.unappliable')))
    expect(passed.map((a) => (a.details as { seq: number }).seq)).toEqual([2])
  })
})

describe('an OrderFilled its order cannot count (its fee on top of the others past what Postgres stores)', () => {
  it('is passed over as unappliable, its fill not stored, and the wallet\'s later events still apply', async () => {
    const { wallet, signer, order } = await placedBuy()
    const event = eventsOf(signer.address, order, 'V-fee')
    // uint256 at 18 decimals: valid alone, past numeric(78,18) and parseAmount on top of another fee.
    const largest = '115792089237316195423570985008687907853269984665640564039457.584007913129639935'
    const run = [
      event('OrderAccepted'),
      event('OrderFilled', { fillId: 'fee-1', price: '1900', size: '0.25', fee: '0.5' }),
      event('OrderFilled', { fillId: 'fee-2', price: '1900', size: '0.25', fee: largest }),
      event('OrderFilled', { fillId: 'fee-3', price: '1900', size: '0.25', fee: '0.5' }),
      event('OrderCancelled', { reason: 'user' }),
    ]
    const applied = await applyEvents(h.db, wallet.id, run)
    expect(applied.map((e) => [e.seq, e.passedOver])).toEqual([['1', undefined], ['2', undefined], ['3', 'data.fee: counted on its order, the fees would exceed the largest amount stored (uint256 at 18 decimals)'], ['4', undefined], ['5', undefined]])
    expect((await h.db.select().from(orders).where(eq(orders.id, order.id)))[0]).toMatchObject({ state: 'cancelled', filled: '0.500000000000000000', fees: '1.000000000000000000' })
    expect((await h.db.select().from(fills).where(eq(fills.walletId, wallet.id))).map((f) => f.fillId).sort()).toEqual(['fee-1', 'fee-3'])
    const passed = await h.db.select().from(auditLog).where(and(eq(auditLog.walletId, wallet.id), eq(auditLog.action, 'event.unappliable')))
    expect(passed.map((a) => a.details)).toEqual([{ seq: 3, type: 'OrderFilled', clientOrderId: order.clientOrderId, problem: applied[2]!.passedOver }])
  })
})

describe('a frame the stream could not read, passed over at its seq (an UnreadableFrame stand-in)', () => {
  it('moves the cursor past it, audited; one that names a fill names its order to reconciliation until the fill is stored', async () => {
    const { wallet, signer, order } = await placedBuy()
    const event = eventsOf(signer.address, order, 'V-frame')
    const accepted = event('OrderAccepted')
    const text = `{"seq":"2","type":"OrderFilled","clientOrderId":"${order.clientOrderId}","at":NaN,"data":{"fillId":"frame-1","price":"1900","size":"0.25","fee":"0"}}`
    const standIn = unreadableFrameStandIn(2n, { id: '2', text, problem: 'not JSON: Unexpected token' })
    const cancelled = { ...event('OrderCancelled', { reason: 'user' }), seq: '3' }
    const applied = await applyEvents(h.db, wallet.id, [accepted, standIn, cancelled])
    expect(applied.map((e) => [e.seq, e.passedOver])).toEqual([['1', undefined], ['2', 'frame: cannot be read, on every replay (not JSON: Unexpected token)'], ['3', undefined]])
    expect((await h.db.select().from(orders).where(eq(orders.id, order.id)))[0]).toMatchObject({ state: 'cancelled', filled: '0.000000000000000000' })
    expect(await passedOverFills(h.db, wallet.id)).toEqual([order.clientOrderId.toLowerCase()])
    await h.db.transaction((tx) => recordFill(tx, { walletId: wallet.id, fillId: 'frame-1', clientOrderId: order.clientOrderId, market: 'ETH-USD', side: 0, price: '1900', size: '0.25', fee: '0', seq: 2, at: new Date() }))
    expect(await passedOverFills(h.db, wallet.id)).toEqual([])
  })
})
