import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel, requestCancelAll, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { fills, orders, requests } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { answeredRequests, createHarness, eventually, type Harness } from './support/harness.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker()
})
afterAll(async () => { await h?.close() })

const orderRow = async (id: string) => (await h.db.select().from(orders).where(eq(orders.id, id)))[0]!

describe('the four families against the sandbox', () => {
  it('places an Order that rests, then fills it when the mark crosses, with fills and average price from the stream', async () => {
    const { wallet } = await h.wallet()
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
    await worker.relay()
    const open = await eventually(async () => { const o = await orderRow(order.id); return o.state === 'open' && o })
    expect(open.venueOrderId).toBeTruthy()
    h.sandbox.setMark('ETH-USD', '1985')
    const filled = await eventually(async () => { const o = await orderRow(order.id); return o.state === 'filled' && o })
    expect(Number(filled.filled)).toBe(0.5)
    // A resting order is the maker: it fills at its own limit price, not at the mark that crossed it.
    expect(Number(filled.averagePrice)).toBe(1990)
    const recorded = await h.db.select().from(fills).where(eq(fills.orderId, order.id))
    expect(recorded).toHaveLength(1)
    const sent = await answeredRequests(() => h.db.select().from(requests).where(eq(requests.orderId, order.id)))
    expect(sent.map((r) => r.status)).toEqual(['accepted'])
    h.sandbox.setMark('ETH-USD', '2000')
  })

  it('modifies a resting order, then cancels it', async () => {
    const { wallet } = await h.wallet()
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '1' }, new Date())
    await requestModify(h.db, worker.markets, { orderId: order.id, price: '1910.5', size: '2' })
    await worker.relay()
    await eventually(async () => (await orderRow(order.id)).venueRevision === 1)
    await requestCancel(h.db, { orderId: order.id })
    await worker.relay()
    const cancelled = await eventually(async () => { const o = await orderRow(order.id); return o.state === 'cancelled' && o })
    expect(Number(cancelled.price)).toBe(1910.5)
    expect(Number(cancelled.size)).toBe(2)
    expect(cancelled.venueRevision).toBe(1)
    expect(cancelled.cancelReason).toBe('user')
    const families = (await answeredRequests(() => h.db.select().from(requests).where(eq(requests.orderId, order.id)))).map((r) => `${r.family}:${r.status}`)
    expect(families.sort()).toEqual(['CancelOrder:accepted', 'ModifyOrder:accepted', 'Order:accepted'])
  })

  it('CancelAll cancels every open order of the wallet', async () => {
    const { wallet } = await h.wallet()
    const placed = await Promise.all(['1800', '1810', '1820'].map((price) =>
      placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())))
    await worker.relay()
    await eventually(async () => (await Promise.all(placed.map((p) => orderRow(p.order.id)))).every((o) => o.state === 'open'))
    await requestCancelAll(h.db, { walletId: wallet.id })
    await worker.relay()
    const states = await eventually(async () => {
      const rows = await Promise.all(placed.map((p) => orderRow(p.order.id)))
      return rows.every((o) => o.state === 'cancelled') && rows
    })
    expect(states.map((o) => o.cancelReason)).toEqual(['cancelAll', 'cancelAll', 'cancelAll'])
  })
})
