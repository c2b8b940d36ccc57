/**
 * Graceful shutdown: `close()` stops taking work and lets the jobs in flight
 * finish; another worker takes what is left. Nothing is lost or sent twice.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { OrderRow } from '../../src/store/schema/index.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrders } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness

beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

it('close() with jobs in flight: they finish, a second worker completes the rest, each order placed once', async () => {
  const db = rows(h.db)
  const { wallet } = await h.wallet()
  const first = await h.startWorker({ concurrency: 3 })
  h.sandbox.setFaults({ latencyMs: 400 })
  try {
    const placed: OrderRow[] = []
    for (let i = 0; i < 12; i++) {
      placed.push((await placeLimitOrder(h.db, first.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: String(1900 + i), size: '0.1' }, new Date())).order)
    }
    await first.relay()
    const inFlight = await eventually(async () => {
      const signed = (await db.requestsOfWallet(wallet.id)).filter((r) => r.status === 'signed')
      return signed.length > 0 && signed
    })

    const closing = first.close()
    const second = await h.startWorker({ concurrency: 3 })
    await closing
    // What the first worker had in flight, it finished before close() resolved.
    const afterClose = await db.requestsOfWallet(wallet.id)
    for (const request of inFlight) expect(afterClose.find((r) => r.id === request.id)?.status).toBe('accepted')

    h.sandbox.setFaults({ latencyMs: 0 })
    await second.relay()
    await eventually(async () => (await Promise.all(placed.map((o) => db.order(o.id)))).every((o) => o.state === 'open'), 20_000)
    // The outbox row is done in the same transaction as the receipt (the stream may open an order first).
    await eventually(async () => (await db.outboxOfWallet(wallet.id)).every((r) => r.status === 'done'))
    const sent = await db.requestsOfWallet(wallet.id)
    expect(sent.map((r) => `${r.family}:${r.status}`)).toEqual(placed.map(() => 'Order:accepted'))
    expect(new Set(sent.map((r) => r.orderId)).size).toBe(placed.length)
    expect(operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId).sort()).toEqual(placed.map((o) => o.clientOrderId).sort())
    expect((await db.outboxOfWallet(wallet.id)).map((r) => r.status)).toEqual(placed.map(() => 'done'))
  } finally {
    h.sandbox.setFaults({ latencyMs: 0 })
  }
})
