/**
 * Postgres drops every connection mid-run (a restart, a failover, an idle
 * timeout in a proxy): statements in flight fail, idle pooled connections die,
 * the LISTEN connection goes. The worker must not crash, must reconnect, and
 * every order must still be placed once: a request whose receipt could not be
 * stored is resolved the way a lost response is.
 */
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { OrderRow } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrders } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ concurrency: 4 })
})
afterAll(async () => { await h?.close() })

/** Ends every other connection to this file's database, from a connection of its own; answers how many. */
async function dropConnections(): Promise<number> {
  const admin = new pg.Client({ connectionString: h.databaseUrl })
  await admin.connect()
  try {
    // In the select list, not the where clause: there the planner may call it before excluding this
    // connection. With a timeout it waits until each backend has exited, so no pooled client is
    // handed out still talking to a dying backend once this returns.
    const { rows: ended } = await admin.query<{ ended: boolean }>(`
      select pg_terminate_backend(pid, 5000) as ended from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()`)
    return ended.filter((row) => row.ended).length
  } finally {
    await admin.end()
  }
}

it('survives every connection being dropped while orders are in flight; each order placed once', async () => {
  const db = rows(h.db)
  const { wallet } = await h.wallet()
  const place = async (i: number) => (await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: String(1800 + i), size: '0.1' }, new Date())).order
  const placed: OrderRow[] = []
  // A slow operator keeps requests in flight, so the drops land between sending and storing the receipt.
  h.sandbox.setFaults({ latencyMs: 300 })
  try {
    for (let i = 0; i < 12; i++) placed.push(await place(i))
    await eventually(async () => (await db.outboxOfWallet(wallet.id)).some((r) => r.status === 'enqueued'))
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(await dropConnections()).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await dropConnections()
    // The pools notice their closed sockets on the next turns of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 50))
  } finally {
    h.sandbox.setFaults({ latencyMs: 0 })
  }
  // Work written after the drops is picked up too (the relay's notification connection came back, or its poll ran).
  for (let i = 12; i < 16; i++) placed.push(await place(i))

  for (const order of placed) await eventually(async () => (await db.order(order.id)).state === 'open', 30_000)
  const atOperator = operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId).sort()
  expect(atOperator).toEqual(placed.map((o) => o.clientOrderId).sort())
  for (const order of placed) {
    const accepted = (await db.answeredRequestsOf(order.id)).filter((r) => r.status === 'accepted')
    expect(accepted.map((r) => r.family)).toEqual(['Order'])
  }
}, 60_000)
