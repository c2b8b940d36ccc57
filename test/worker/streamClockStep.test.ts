/**
 * The worker's clock steps after start-up while its event streams are open: a stream already
 * connected keeps flowing, but every reconnect signs its read deadline on the stale offset, which
 * the operator refuses (DeadlineExpired). The stream measures the operator's clock again, as the
 * submission path does, instead of reconnecting on the same wrong clock for as long as no request
 * happens to be sent.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker
let stepMs = 0
beforeAll(async () => {
  h = await createHarness()
  // Reconciliation, which reads with the same deadlines, runs once a minute.
  worker = await h.startWorker({ now: () => Date.now() + stepMs, reconcileIntervalMs: 60_000 })
})
afterAll(async () => { await h?.close() })

it.each([
  ['back', -90_000],
  // Then the deadline is more than maxDeadlineMs ahead: refused InvalidRequest.
  ['forward', 90_000],
])('a stream reconnecting after the clock stepped %s measures the operator\'s clock again, and the fill arrives', async (_direction, step) => {
  const db = rows(h.db)
  const { wallet } = await h.wallet()
  await eventually(async () => worker.streams?.wallets().includes(wallet.id))
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.1' }, new Date())
  await worker.relay()
  await eventually(async () => (await db.order(order.id)).state === 'open')

  // 90 s off the operator's clock as last measured: a 30 s read deadline is a minute past on arrival, or a minute too far ahead.
  stepMs += step
  // The open streams are cut (and again every 300 ms): each reconnect signs a new read deadline.
  h.sandbox.setFaults({ streamDropEveryMs: 300 })
  try {
    await new Promise((resolve) => setTimeout(resolve, 600))
    h.sandbox.setMark('ETH-USD', '1990')
    await eventually(async () => (await db.order(order.id)).state === 'filled', 10_000)
  } finally {
    h.sandbox.setMark('ETH-USD', '2000')
    h.sandbox.setFaults({ streamDropEveryMs: 0 })
  }
  expect((await db.order(order.id)).filled).toMatch(/^0\.1/)
}, 30_000)
