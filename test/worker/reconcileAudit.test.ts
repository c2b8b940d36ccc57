/**
 * Every repair reconciliation makes is in the audit log, and none is recorded that did not happen:
 * a repair and its audit entry are written together, so an operator error part-way through a run
 * (or a Postgres failure between two writes) can neither leave a repair unrecorded nor leave half
 * of one (an orphan adopted but not cancelled under ORPHAN_POLICY=cancel). Streams are off here, so
 * only reconciliation learns anything.
 */
import { randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { orders as ordersTable } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { withFirstWriteFailing } from '../support/firstWriteFailing.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorFills, operatorOrder, sendWithSessionKey } from './support/operator.js'
import { rows } from './support/rows.js'
import { stopPeriodicReconcile } from './support/stopPeriodicReconcile.js'

/** Operator reads and requests go through; when armed, the one `n` calls from now answers 503 (sandbox fault injection). */
let failIn: number | undefined
const random = () => {
  if (failIn === undefined) return 1
  return failIn-- > 0 ? 1 : (failIn = undefined, 0)
}

let h: Harness
let worker: RunningWorker | undefined
let db: ReturnType<typeof rows>

beforeAll(async () => {
  h = await createHarness({ sandbox: { makerSize: '0.5', random, faults: { errorRate: 1 } } })
  db = rows(h.db)
  // Only the runs below reconcile: the worker's periodic run (its first is at once) is stopped.
  await stopPeriodicReconcile(await running())
})
afterAll(async () => { await h?.close() })

const running = async (): Promise<RunningWorker> => (worker ??= await h.startWorker({ streams: false, sweepIntervalMs: 600_000 }))
const reconcileNow = async (orphans: 'adopt' | 'cancel' = 'adopt') => reconcile((await running()).deps, { orphans, settleMs: 0 })
const E18 = 10n ** 18n
const reconcilerActions = async (walletId: string) => (await db.audit(walletId)).filter((a) => a.actor === 'reconciler').map((a) => a.action)

/** A wallet's buys of 0.5 at 1990 (the mark is 2000), placed through the worker and open. */
async function openBuys(count: number) {
  const { wallet } = await h.wallet()
  const live = await running()
  const placed = []
  for (let i = 0; i < count; i++) {
    const { order } = await placeLimitOrder(h.db, live.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
    placed.push(order)
  }
  await live.relay()
  for (const order of placed) await eventually(async () => (await db.order(order.id)).state === 'open')
  return { wallet, orders: placed }
}

describe('an operator error part-way through the fill backfill', () => {
  it('leaves no backfilled fill out of the audit log', async () => {
    const { wallet, orders } = await openBuys(2)
    h.sandbox.setMark('ETH-USD', '1985')
    h.sandbox.setMark('ETH-USD', '2000')
    expect(operatorFills(h.sandbox, wallet.address)).toHaveLength(2)
    // Reads: the open orders (1), each order by cloid (2, 3), the fills (4), each order again
    // before its fills are counted (5, 6): the sixth answers 503, after the first order's fill was stored.
    failIn = 5
    expect((await reconcileNow()).failures).toBe(1)
    expect(failIn).toBeUndefined()
    const stored = (await Promise.all(orders.map((o) => db.fillsOf(o.id)))).flat()
    expect(stored).toHaveLength(1)
    expect((await db.audit(wallet.id, 'fill.backfilled')).map((a) => a.details.fillId)).toEqual(stored.map((f) => f.fillId))

    // The next run stores the other one; each stored fill is in the log once.
    expect((await reconcileNow()).failures).toBe(0)
    const all = (await Promise.all(orders.map((o) => db.fillsOf(o.id)))).flat()
    expect(all).toHaveLength(2)
    expect((await db.audit(wallet.id, 'fill.backfilled')).map((a) => a.details.fillId).sort()).toEqual(all.map((f) => f.fillId).sort())
  })
})

describe('a price and size repaired from the operator read', () => {
  it('is in the audit log', async () => {
    const { wallet, orders: [order] } = await openBuys(1)
    const { deps } = await running()
    // Modified behind the worker's back (a modify whose receipt and event never reached Postgres).
    const modified = await sendWithSessionKey(deps, wallet.id, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: order!.clientOrderId as Hex, price: 1991n * E18, size: 1n * E18 })
    expect(modified.status).toBe(200)
    expect(operatorOrder(h.sandbox, wallet.address, order!.clientOrderId)?.revision).toBe(1)

    expect((await reconcileNow()).failures).toBe(0)
    const repaired = await db.order(order!.id)
    expect([repaired.state, Number(repaired.price), Number(repaired.size), repaired.venueRevision]).toEqual(['open', 1991, 1, 1])
    expect(await reconcilerActions(wallet.id)).toEqual(['order.modified'])
    expect((await db.audit(wallet.id, 'order.modified'))[0]?.details).toMatchObject({ orderId: order!.id, revision: { from: 0, to: 1 } })
    // Nothing left to repair: nothing more is recorded.
    await reconcileNow()
    expect(await reconcilerActions(wallet.id)).toEqual(['order.modified'])
  })
})

describe('an order recorded cancelled here, live and modified at the operator', () => {
  it('has the price and size read back in the audit log, with its cancel', async () => {
    const { wallet, orders: [order] } = await openBuys(1)
    const { deps } = await running()
    // Modified behind the worker's back, then recorded cancelled here (a placement accepted without Deputy learning it, stopped here).
    const modified = await sendWithSessionKey(deps, wallet.id, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: order!.clientOrderId as Hex, price: 1991n * E18, size: 1n * E18 })
    expect(modified.status).toBe(200)
    await h.db.update(ordersTable).set({ state: 'cancelled', cancelReason: 'user' }).where(eq(ordersTable.id, order!.id))

    expect((await reconcileNow()).failures).toBe(0)
    // Reopened at the read's price and size, then cancelled there by the CancelOrder the repair queued
    // (the running worker sends it at once, so the order is seen open only for a moment).
    await eventually(async () => operatorOrder(h.sandbox, wallet.address, order!.clientOrderId)?.status === 'cancelled')
    const repaired = await eventually(async () => { const row = await db.order(order!.id); return row.state === 'cancelled' && row })
    expect([Number(repaired.price), Number(repaired.size), repaired.venueRevision]).toEqual([1991, 1, 1])
    expect(await reconcilerActions(wallet.id)).toEqual(['order.liveAtOperator', 'order.modified'])
    expect((await db.audit(wallet.id, 'order.modified'))[0]?.details).toMatchObject({ orderId: order!.id, revision: { from: 0, to: 1 } })
  })
})

describe("an orphan under ORPHAN_POLICY 'cancel' when Postgres fails part-way through its adoption", () => {
  it('is cancelled by the next run, not left adopted and live', async () => {
    const { wallet } = await h.wallet()
    const { deps } = await running()
    const clientOrderId = `0x${randomBytes(16).toString('hex')}` as Hex
    const placed = await sendWithSessionKey(deps, wallet.id, 'Order', { market: 'ETH-USD', side: 0, price: 1990n * E18, size: 1n * E18, timeInForce: 0, clientOrderId })
    expect(placed.status).toBe(200)
    // The orphan's CancelOrder cannot be written once (Postgres refuses it, as a dropped connection would).
    await withFirstWriteFailing(h.db, { name: 'fail_orphan_cancel', table: 'outbox', when: "new.kind = 'CancelOrder' and new.payload->>'reason' = 'orphan'", message: 'injected: the orphan cancel is not written' }, async () => {
      expect((await reconcileNow('cancel')).failures).toBe(1)
      expect((await reconcileNow('cancel')).failures).toBe(0)
    })
    await (await running()).relay()
    await eventually(async () => operatorOrder(h.sandbox, wallet.address, clientOrderId)?.status === 'cancelled')
    const [adopted] = await db.ordersOf(wallet.id)
    expect(await eventually(async () => (await db.order(adopted!.id)).state === 'cancelled')).toBe(true)
    expect(await reconcilerActions(wallet.id)).toEqual(['orphan.cancel'])
  })
})
