import { expect } from 'vitest'
import { placeLimitOrder } from '../../../src/runtime/intake/placeLimitOrder.js'
import type { OrderRow } from '../../../src/store/schema/index.js'
import type { RunningWorker } from '../../../src/worker.js'
import { eventually, type Harness } from './harness.js'
import { operatorOrders } from './operator.js'
import { rows } from './rows.js'

/**
 * The connection-loss scenario: 12 orders go out against a slow operator, so
 * requests are on the wire; `drop` cuts connections twice, 300 ms apart (it
 * answers how many, and the first time must cut at least `atLeast`); 4 more
 * orders follow. Then every order must be open, at the operator exactly once,
 * with one accepted Order request each.
 */
export async function dropWhileInFlight(h: Harness, worker: RunningWorker, drop: () => Promise<number>, atLeast = 1): Promise<void> {
  const db = rows(h.db)
  const { wallet } = await h.wallet()
  const place = async (i: number) => (await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: String(1800 + i), size: '0.1' }, new Date())).order
  const placed: OrderRow[] = []
  h.sandbox.setFaults({ latencyMs: 300 })
  try {
    for (let i = 0; i < 12; i++) placed.push(await place(i))
    await eventually(async () => (await db.outboxOfWallet(wallet.id)).some((r) => r.status === 'enqueued'))
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(await drop()).toBeGreaterThanOrEqual(atLeast)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await drop()
    // Clients notice their closed sockets on the next turns of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 50))
  } finally {
    h.sandbox.setFaults({ latencyMs: 0 })
  }
  // Work written after the drops is picked up too.
  for (let i = 12; i < 16; i++) placed.push(await place(i))

  for (const order of placed) await eventually(async () => (await db.order(order.id)).state === 'open', 30_000)
  const atOperator = operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId).sort()
  expect(atOperator).toEqual(placed.map((o) => o.clientOrderId).sort())
  for (const order of placed) {
    const accepted = (await db.answeredRequestsOf(order.id)).filter((r) => r.status === 'accepted')
    expect(accepted.map((r) => r.family)).toEqual(['Order'])
  }
  // Every client whose connection was cut went back to the pool: none is held for good (one held
  // per cut would leave the worker waiting for a free client, and its pool never ending).
  const pool = h.database.kind === 'pg' ? h.database.pool : undefined
  if (pool) await eventually(async () => pool.totalCount === pool.idleCount, 10_000, 5)
}
