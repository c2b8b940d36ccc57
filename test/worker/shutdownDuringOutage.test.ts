/**
 * A worker stopped (SIGTERM) while the operator hangs (takes connections, never answers) stops
 * within its shutdown budget, not at its end: a request on the wire may run to the operator
 * timeout, but nothing new is sent once it is told to stop. The cancel lane sent its overdue
 * cancels one after another, each waiting out the operator timeout, and its close waited for the
 * whole batch: the worker ran into SHUTDOWN_TIMEOUT_MS ('shutdown timed out'). What it did not
 * send is safe to leave: the next worker sends those cancels (the signed bytes of one cut short
 * are resent, answered duplicate), and each order is cancelled once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel } from '../../src/runtime/intake/requestOrderChange.js'
import type { OrderRow } from '../../src/store/schema/index.js'
import { lateRelay } from '../support/lateRelay.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrders } from './support/operator.js'
import { rows } from './support/rows.js'
import { spawnWorkerProcess } from './support/workerProcess.js'

let h: Harness
let operator: Awaited<ReturnType<typeof lateRelay>>
beforeAll(async () => {
  h = await createHarness()
  operator = await lateRelay(h.sandbox.url)
  await operator.open()
})
afterAll(async () => {
  await h?.close()
  await operator?.close()
})

const SHUTDOWN_TIMEOUT_MS = 8_000

it('stopped while the operator hangs, the worker stops before its shutdown timeout, and the cancels it left go out once the operator is back', async () => {
  const db = rows(h.db)
  const markets = await h.markets()
  const { wallet } = await h.wallet()
  // Each send into the hanging operator waits this long for an answer.
  const child = await spawnWorkerProcess(h, { OPERATOR_URL: operator.url, SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), OPERATOR_TIMEOUT_MS: '3000' })
  const live: OrderRow[] = []
  for (let i = 0; i < 5; i++) live.push((await placeLimitOrder(h.db, markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: String(1900 + i), size: '0.1' }, new Date())).order)
  for (const order of live) await eventually(async () => (await db.order(order.id)).state === 'open', 20_000)

  await operator.hang()
  for (const order of live) await requestCancel(h.db, { orderId: order.id })
  // Their jobs' sends hang: the cancel lane takes them over.
  await eventually(async () => child.errors.some((line) => line.includes('sending them directly')), 20_000)
  const stoppedAt = Date.now()
  expect(await child.stop(), child.errors.join('\n')).toBe(0)
  const stoppedInMs = Date.now() - stoppedAt
  expect(child.errors.filter((line) => line.includes('shutdown timed out'))).toEqual([])
  expect(stoppedInMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS)

  await operator.open()
  const next = await h.startWorker({ operatorUrl: operator.url })
  await next.relay()
  for (const order of live) {
    await eventually(async () => (await db.order(order.id)).state === 'cancelled', 30_000)
    await eventually(async () => (await db.outboxOf(order.id)).every((row) => row.status === 'done'), 30_000)
    const cancels = (await db.answeredRequestsOf(order.id)).filter((r) => r.family === 'CancelOrder')
    expect(cancels.filter((r) => r.status === 'accepted')).toHaveLength(1)
  }
  expect(operatorOrders(h.sandbox, wallet.address).map((o) => o.status)).toEqual(live.map(() => 'cancelled'))
}, 120_000)
