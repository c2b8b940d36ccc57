/**
 * What the periodic sweep repairs when the stream missed everything about an order (streams off):
 * its fills at two prices with their fees, a modify between them, and its cancel; each repair is
 * in the audit log and the amounts are exactly the operator's (bigint sums of its fills). The
 * stream's events, delivered afterwards to an order the sweep already made terminal, change
 * nothing but the cancel's reason. And an order of Deputy's whose receipt is not stored yet is
 * not taken for an orphan under ORPHAN_POLICY=cancel; one left unknown that the operator took and
 * filled in two parts at two prices is read back filled with the exact totals, not placed again.
 */
import { eq } from 'drizzle-orm'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyEvents } from '../../jobs/applyEvent.js'
import { reconcile } from '../../jobs/reconcile.js'
import { submitOrderSpec } from '../../jobs/submitOrder.js'
import { parseAmount, parseSignedAmount } from '../../src/core/money/decimal.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { signAndPersist } from '../../src/runtime/submission/signAndPersist.js'
import { orders, outbox, requests } from '../../src/store/schema/index.js'
import type { VenueEvent } from '../../src/venue/types.js'
import type { WorkerDeps } from '../../src/runtime/deps.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorEvents, operatorFills, operatorOrder, postToOperator, sendWithSessionKey } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker | undefined
let db: ReturnType<typeof rows>

beforeAll(async () => {
  // A resting order fills 0.3 at a time.
  h = await createHarness({ sandbox: { makerSize: '0.3' } })
  db = rows(h.db)
})
afterAll(async () => { await h?.close() })

const running = async (): Promise<RunningWorker> => (worker ??= await h.startWorker({ streams: false, sweepIntervalMs: 600_000 }))
const reconcileNow = async (orphans: 'adopt' | 'cancel' = 'adopt') => reconcile((await running()).deps, { orphans, settleMs: 0 })
const reconcilerActions = async (walletId: string) => (await db.audit(walletId)).filter((a) => a.actor === 'reconciler').map((a) => a.action).sort()
const E18 = 10n ** 18n

/** An order placed, claimed, signed and persisted by another worker (closed since): its request not sent yet. */
async function signedByAnotherWorker(walletId: string) {
  const dead = await h.startWorker({ streams: false })
  await dead.close()
  // Placed and taken from the outbox in one transaction: a running worker's relay (every 100 ms, and
  // on commit) never sees the row pending, so it never queues a job that would send the bytes.
  const { order, row } = await h.db.transaction(async (tx) => {
    const { order } = await placeLimitOrder(tx, dead.markets, { walletId, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.2' }, new Date())
    const [row] = await tx.update(outbox).set({ status: 'enqueued', enqueuedAt: new Date() }).where(eq(outbox.orderId, order.id)).returning()
    return { order, row }
  })
  const claim = await h.db.transaction((tx) => submitOrderSpec.claim(tx, { deps: dead.deps, row: row!, order }))
  if (claim.kind !== 'proceed') throw new Error(claim.kind)
  const signed = await signAndPersist(dead.deps, (await dead.deps.sessions.active(walletId))!, 'Order', claim.fields, { walletId, orderId: order.id, outboxId: row!.id })
  return { order, signed }
}
const crossMark = (price: string) => {
  try {
    h.sandbox.setMark('ETH-USD', price)
  } finally {
    h.sandbox.setMark('ETH-USD', '2000')
  }
}

/** Σ size, Σ price×size / Σ size and Σ fee over the operator's fills of one order, as bigints. */
function operatorTotals(address: string, clientOrderId: string) {
  const mine = operatorFills(h.sandbox, address).filter((f) => f.clientOrderId.toLowerCase() === clientOrderId.toLowerCase())
  const filled = mine.reduce((sum, f) => sum + f.size, 0n)
  const notional = mine.reduce((sum, f) => sum + f.price * f.size, 0n)
  const fees = mine.reduce((sum, f) => sum + f.fee, 0n)
  return { count: mine.length, filled, average: notional / filled, fees }
}

describe('an order partly filled at two prices, modified between, then cancelled, all behind the stream', () => {
  it('is repaired by the sweep with the exact filled size, average price and fees, each repair audited; the late events change nothing', async () => {
    const { wallet } = await h.wallet()
    const live = await running()
    const { order } = await placeLimitOrder(h.db, live.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990.07', size: '1' }, new Date())
    await live.relay()
    await eventually(async () => (await db.order(order.id)).state === 'open')

    crossMark('1990')
    const modified = await sendWithSessionKey(live.deps, wallet.id, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: order.clientOrderId as Hex, price: 1990_13n * E18 / 100n, size: E18 })
    expect(modified.status).toBe(200)
    crossMark('1990')
    const cancelled = await sendWithSessionKey(live.deps, wallet.id, 'CancelOrder', { market: 'ETH-USD', clientOrderId: order.clientOrderId as Hex })
    expect(cancelled.status).toBe(200)
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status).toBe('cancelled')
    const expected = operatorTotals(wallet.address, order.clientOrderId)
    expect(expected.count).toBe(2)

    expect((await reconcileNow()).failures).toBe(0)
    const repaired = await db.order(order.id)
    expect(repaired.state).toBe('cancelled')
    expect([parseAmount('price', repaired.price), parseAmount('size', repaired.size), repaired.venueRevision]).toEqual([1990_13n * E18 / 100n, E18, 1])
    expect(parseAmount('filled', repaired.filled)).toBe(expected.filled)
    expect(parseAmount('averagePrice', repaired.averagePrice!)).toBe(expected.average)
    expect(parseSignedAmount('fees', repaired.fees)).toBe(expected.fees)
    expect(await reconcilerActions(wallet.id)).toEqual(['fill.backfilled', 'fill.backfilled', 'order.modified', 'order.state'])

    // The stream comes back and delivers every event, twice and out of order.
    const all = operatorEvents(h.sandbox, wallet.address) as unknown as VenueEvent[]
    await applyEvents(h.db, wallet.id, [...all].reverse())
    await applyEvents(h.db, wallet.id, all)
    const after = await db.order(order.id)
    expect(after.state).toBe('cancelled')
    expect(after.cancelReason).toBe('user')
    expect([after.filled, after.averagePrice, after.fees, after.venueRevision]).toEqual([repaired.filled, repaired.averagePrice, repaired.fees, 1])
    expect(await db.fillsOf(order.id)).toHaveLength(2)

    // Nothing left to repair.
    await reconcileNow()
    expect(await reconcilerActions(wallet.id)).toHaveLength(4)
  })
})

describe("an order of Deputy's accepted by the operator whose receipt is not stored yet", () => {
  it("is not an orphan under ORPHAN_POLICY 'cancel': the sweep records it open and sends no cancel", async () => {
    const { wallet } = await h.wallet()
    const live = await running()
    // A submission in flight in another worker: claimed, signed and persisted, sent, accepted; its answer not stored yet.
    const { order, signed } = await signedByAnotherWorker(wallet.id)
    const answer = await postToOperator(h.sandbox.url, '/v1/requests', signed.body)
    expect(answer.status).toBe(200)
    expect((await db.order(order.id)).state).toBe('submitting')

    expect((await reconcileNow('cancel')).failures).toBe(0)
    await live.relay()
    expect((await db.order(order.id)).state).toBe('open')
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status).toBe('open')
    expect((await db.outboxOfWallet(wallet.id)).map((r) => r.kind)).toEqual(['Order'])
    expect(await h.db.select().from(orders).where(eq(orders.walletId, wallet.id))).toHaveLength(1)
    expect(await reconcilerActions(wallet.id)).toEqual(['order.state'])
  })
})

describe('an order left unknown whose lost request reaches the operator just after the sweep read it', () => {
  it('is not placed again: whether the request can still be accepted is judged at the read, not later', async () => {
    const { wallet } = await h.wallet()
    const live = await running()
    const { order, signed: lost } = await signedByAnotherWorker(wallet.id)
    await h.db.update(requests).set({ status: 'unknown', errorCode: 'Transport' }).where(eq(requests.id, lost.id))
    await h.db.update(orders).set({ state: 'unknown' }).where(eq(orders.id, order.id))

    // The read finds nothing; the lost bytes land right after it, before their deadline; and the
    // sweep goes on only once the deadline has passed (a slow Postgres, a pause).
    let ahead = 0
    const deps: WorkerDeps = {
      ...live.deps,
      now: () => Date.now() + ahead,
      operatorNow: () => live.deps.operatorNow() + ahead,
      venue: {
        ...live.deps.venue,
        order: async (auth, clientOrderId) => {
          try {
            return await live.deps.venue.order(auth, clientOrderId)
          } catch (error) {
            if (clientOrderId.toLowerCase() === order.clientOrderId.toLowerCase() && ahead === 0) {
              expect((await postToOperator(h.sandbox.url, '/v1/requests', lost.body)).status).toBe(200)
              ahead = 60_000
            }
            throw error
          }
        },
      },
    }
    expect((await reconcile(deps, { orphans: 'adopt', settleMs: 0 })).failures).toBe(0)
    expect(ahead).toBe(60_000)
    expect(await reconcilerActions(wallet.id)).toEqual([])
    expect((await db.requestsOf(order.id)).map((r) => r.status)).toEqual(['unknown'])
    expect((await db.outboxOf(order.id)).map((r) => r.kind)).toEqual(['Order'])

    // The next sweep reads it open.
    expect((await reconcileNow()).failures).toBe(0)
    expect((await db.order(order.id)).state).toBe('open')
  })
})

describe('an order left unknown that the operator took, filled in two parts at two prices and closed', () => {
  it('is read back filled with the exact filled size, average price and fees from its fills, each audited', async () => {
    const { wallet } = await h.wallet()
    await running()
    const { order, signed: lost } = await signedByAnotherWorker(wallet.id)
    await h.db.update(requests).set({ status: 'unknown', errorCode: 'Transport' }).where(eq(requests.id, lost.id))
    await h.db.update(orders).set({ state: 'unknown' }).where(eq(orders.id, order.id))
    expect((await postToOperator(h.sandbox.url, '/v1/requests', lost.body)).status).toBe(200)
    // Placed at 0.2, which the maker (0.3 a time) fills whole: raised to 0.5, it fills in two parts, the price moved between.
    const modified = await sendWithSessionKey((await running()).deps, wallet.id, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: order.clientOrderId as Hex, price: 1990_11n * E18 / 100n, size: E18 / 2n })
    expect(modified.status).toBe(200)
    crossMark('1990')
    const again = await sendWithSessionKey((await running()).deps, wallet.id, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: order.clientOrderId as Hex, price: 1990_37n * E18 / 100n, size: E18 / 2n })
    expect(again.status).toBe(200)
    crossMark('1990')
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status).toBe('filled')
    const expected = operatorTotals(wallet.address, order.clientOrderId)
    expect(expected.count).toBe(2)

    expect((await reconcileNow()).failures).toBe(0)
    const repaired = await db.order(order.id)
    expect(repaired.state).toBe('filled')
    expect(parseAmount('filled', repaired.filled)).toBe(expected.filled)
    expect(parseAmount('averagePrice', repaired.averagePrice!)).toBe(expected.average)
    expect(parseSignedAmount('fees', repaired.fees)).toBe(expected.fees)
    expect(await reconcilerActions(wallet.id)).toEqual(['fill.backfilled', 'fill.backfilled', 'order.modified', 'order.state'])
    // Not placed again: the operator holds it.
    expect((await db.outboxOf(order.id)).map((r) => r.kind)).toEqual(['Order'])
    await reconcileNow()
    expect(await reconcilerActions(wallet.id)).toHaveLength(4)
  })
})
