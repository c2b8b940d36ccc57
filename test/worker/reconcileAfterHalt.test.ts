/**
 * A placement claimed but never signed when the kill switch tripped (its process died after the
 * claim: the order `submitting`, no request) outlives the halt, which cancels only pending orders,
 * and holds the resume back until reconciliation, reading it unknown to the operator, puts it back
 * in the queue. Claimed again after the resume (the queue backed up meanwhile), it is never sent:
 * the halt's CancelAll was asked after it was queued. It is recorded cancelled `halted`, as the
 * placements the halt stopped are; before, `cancelAll`, a CancelAll the user never asked for.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { orders, outbox } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker
let db: ReturnType<typeof rows>

beforeAll(async () => {
  h = await createHarness()
  db = rows(h.db)
  // No repair sweep: the claimed placement's lost job is not enqueued again behind the test's back.
  worker = await h.startWorker({ streams: false, sweepIntervalMs: 600_000, maintenanceIntervalMs: 3_600_000 })
})
afterAll(async () => { await h?.close() })

it('a placement claimed and never signed at the halt, queued again by reconciliation and claimed after the resume, is cancelled `halted`', async () => {
  const w = await h.wallet()
  const order = await h.db.transaction(async (tx) => {
    const { order } = await placeLimitOrder(tx, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.1' }, new Date())
    // Claimed by a process that died before signing: its job went with it.
    await tx.update(orders).set({ state: 'submitting' }).where(eq(orders.id, order.id))
    await tx.update(outbox).set({ status: 'enqueued', enqueuedAt: new Date() }).where(eq(outbox.orderId, order.id))
    return order
  })
  const { outboxId } = await haltWallet(h.db, { walletId: w.wallet.id, reason: 'stop' })
  await worker.relay()
  await eventually(async () => (await db.outboxOfWallet(w.wallet.id)).find((row) => row.id === outboxId && row.status === 'done'))
  expect((await db.order(order.id)).state).toBe('submitting')
  await expect(resumeWallet(h.db, { walletId: w.wallet.id })).rejects.toThrow(/not answered yet \(submitting\)/)

  // The queue is backed up: reconciliation's placement waits in it while the wallet resumes.
  await worker.submitQueue.pause()
  try {
    expect((await reconcile(worker.deps, { walletId: w.wallet.id, orphans: 'adopt', settleMs: 0 })).failures).toBe(0)
    expect(await db.audit(w.wallet.id, 'order.resubmitted')).toHaveLength(1)
    expect((await db.order(order.id)).state).toBe('pending')
    await resumeWallet(h.db, { walletId: w.wallet.id })
    await worker.relay()
  } finally {
    await worker.submitQueue.resume()
  }
  const ended = await eventually(async () => { const o = await db.order(order.id); return o.state === 'cancelled' && o })
  expect(ended.cancelReason).toBe('halted')
  expect(await db.requestsOf(order.id)).toEqual([])
  expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toBeUndefined()
}, 60_000)
