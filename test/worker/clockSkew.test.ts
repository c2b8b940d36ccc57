import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { orders, requests } from '../../src/store/schema/index.js'
import { answeredRequests, createHarness, eventually, type Harness } from './support/harness.js'

let h: Harness

beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

describe('a worker whose clock differs from the operator\'s', () => {
  it('signs deadlines on the operator\'s clock: 40 s behind it, orders still go through first time', async () => {
    const { wallet } = await h.wallet()
    // The operator's clock runs 40 s ahead of ours: a deadline of our now + 30 s would already be past.
    h.sandbox.advanceClock(40_000)
    const worker = await h.startWorker()
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.1' }, new Date())
    await worker.relay()
    const open = await eventually(async () => { const [o] = await h.db.select().from(orders).where(eq(orders.id, order.id)); return o?.state === 'open' && o })
    expect(open.state).toBe('open')
    const sent = await answeredRequests(() => h.db.select().from(requests).where(eq(requests.orderId, order.id)))
    // Accepted on the first signature: no DeadlineExpired, no re-signing.
    expect(sent.map((r) => r.status)).toEqual(['accepted'])
    expect(sent[0]!.deadline).toBeGreaterThan(h.sandbox.now())
  })
})
