/**
 * An operator that pays maker rebates answers a resting order's fill with a negative fee. Deputy
 * counts it as such: the fill is applied from the stream (not passed over as malformed), the
 * order's fees fall below zero, and reconciliation of the wallet completes. Refused, the fill was
 * set aside from the stream, reconciliation failed on it when it read the fill back, and then
 * recorded the order from a read alone: `filled` with 0 filled, no fill and no fee.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import { fills } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { activeWallet, place, settled } from '../lifecycle/support/lifecycle.js'
import { createHarness, type Harness } from './support/harness.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  // A 2 bps rebate to the maker.
  h = await createHarness({ sandbox: { fees: { takerBps: 5, makerBps: -2 } } })
  worker = await h.startWorker()
})
afterAll(async () => { await h?.close() })

it("counts a maker rebate's negative fee, and reconciles the wallet", async () => {
  const w = await activeWallet(h)
  const order = await place(h, worker, w.wallet.id, { price: '1900', size: '0.1' })
  await settled(h.db, order.id, 'open')
  expect(h.sandbox.setMark('ETH-USD', '1900')).toBe(1)

  // 1900 × 0.1 = 190 of notional; 2 bps of it paid back.
  const filled = await settled(h.db, order.id, 'filled')
  expect([Number(filled.filled), Number(filled.fees)]).toEqual([0.1, -0.038])
  const [fill] = await h.db.select({ fee: fills.fee }).from(fills).where(eq(fills.orderId, order.id))
  expect(Number(fill?.fee)).toBe(-0.038)
  expect(await reconcile(worker.deps, { orphans: 'adopt', settleMs: 0 })).toMatchObject({ failures: 0 })
})
