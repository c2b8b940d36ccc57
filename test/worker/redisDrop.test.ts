/**
 * Redis drops the worker's connections mid-run (a restart, a failover, a
 * proxy's idle timeout) while orders are in flight. Only this file's
 * connections are cut: the worker names every connection after the queue
 * prefix, which is unique to this file, and other files share the server.
 * The worker must reconnect on its own and every order be placed once.
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { OrderRow } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrders } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker
let admin: Redis

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ concurrency: 4 })
  admin = new Redis(REDIS_URL)
})
afterAll(async () => {
  admin?.disconnect()
  await h?.close()
})

/** Closes every Redis connection of this file's worker (named after its prefix); answers how many. */
async function dropConnections(): Promise<number> {
  const list = String(await admin.client('LIST'))
  const ids = list.split('\n').filter((line) => line.includes(` name=${h.queuePrefix}:`)).map((line) => /\bid=(\d+)/.exec(line)![1]!)
  for (const id of ids) await admin.client('KILL', 'ID', id)
  return ids.length
}

it('reconnects after Redis dropped its connections while orders were in flight; each order placed once', async () => {
  const db = rows(h.db)
  const { wallet } = await h.wallet()
  const place = async (i: number) => (await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: String(1700 + i), size: '0.1' }, new Date())).order
  const placed: OrderRow[] = []
  // A slow operator keeps jobs active (holding their locks) when the connections go.
  h.sandbox.setFaults({ latencyMs: 300 })
  try {
    for (let i = 0; i < 12; i++) placed.push(await place(i))
    await eventually(async () => (await db.outboxOfWallet(wallet.id)).some((r) => r.status === 'enqueued'))
    await new Promise((resolve) => setTimeout(resolve, 400))
    // The two queues' connections and the two BullMQ workers' (each with its blocking duplicate).
    expect(await dropConnections()).toBeGreaterThanOrEqual(4)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await dropConnections()
  } finally {
    h.sandbox.setFaults({ latencyMs: 0 })
  }
  for (let i = 12; i < 16; i++) placed.push(await place(i))

  for (const order of placed) await eventually(async () => (await db.order(order.id)).state === 'open', 30_000)
  const atOperator = operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId).sort()
  expect(atOperator).toEqual(placed.map((o) => o.clientOrderId).sort())
  for (const order of placed) {
    const accepted = (await db.answeredRequestsOf(order.id)).filter((r) => r.status === 'accepted')
    expect(accepted.map((r) => r.family)).toEqual(['Order'])
  }
}, 60_000)
