/**
 * A read-back outside the reconciliation sweep (a submission reading an order whose answer was lost,
 * or the event consumer reading one it could not apply) audits what it repairs as the sweep does:
 * the order's state and the fills it stores, in the transactions that make them, by the worker, with
 * `via: 'readBack'`. Here the order filled at the operator while Postgres heard nothing (no streams).
 */
import type { Hex } from 'viem'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { readBackOrder } from '../../src/runtime/submission/readBack.js'
import type { RunningWorker } from '../../src/worker.js'
import type { Harness } from './support/harness.js'
import { operatorOrder } from './support/operator.js'
import type { rows } from './support/rows.js'
import { openOrder, stoppedWorkerHarness } from './support/stoppedWorker.js'

let h: Harness
let db: ReturnType<typeof rows>
let dead: RunningWorker
beforeAll(async () => { ({ h, db, dead } = await stoppedWorkerHarness()) })
afterAll(async () => { await h?.close() })

it('audits the state and the fills a read-back repairs', async () => {
  const w = await h.wallet()
  const order = await openOrder(h, dead, w.wallet.id)
  // The sandbox's maker fills it at the operator (the mark crosses it); this worker's streams are off.
  try {
    h.sandbox.setMark('ETH-USD', '1990')
  } finally {
    h.sandbox.setMark('ETH-USD', '2000')
  }
  expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)?.status).toBe('filled')
  expect((await db.order(order.id)).state).toBe('open')

  const session = await dead.deps.sessions.active(w.wallet.id)
  expect(await readBackOrder(dead.deps, session!, w.wallet.id, order.clientOrderId as Hex)).toBe(true)
  expect((await db.order(order.id)).state).toBe('filled')
  const [fill] = await db.fillsOf(order.id)
  const trail = (await db.audit(w.wallet.id)).filter((entry) => entry.action === 'order.state' || entry.action === 'fill.backfilled')
  // One transaction records the fill and the order's change (in either order).
  expect(trail.map((entry) => [entry.actor, entry.action, entry.details]).sort((a, b) => String(a[1]).localeCompare(String(b[1])))).toEqual([
    ['worker', 'fill.backfilled', { fillId: fill!.fillId, clientOrderId: order.clientOrderId, via: 'readBack' }],
    ['worker', 'order.state', { orderId: order.id, from: 'open', to: 'filled', via: 'readBack' }],
  ])
})
