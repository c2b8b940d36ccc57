/**
 * Several modifies of one order asked before the first went out: the last asked wins, and none
 * asked before it reaches the operator after the user had asked the next (through the mark, it
 * would fill at once at a price the user had already replaced). Sent one by one instead, the
 * first took the order through the mark and the last found it filled ("not applied").
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, bareWallet, eventually, grant, operatorOrder, place, rows, settled } from './support/lifecycle.js'

let h: Harness
let r: ReturnType<typeof rows>
beforeAll(async () => { h = await createHarness(); r = rows(h.db) })
afterAll(async () => { await h?.close() })

const E18 = 10n ** 18n
const finished = (orderId: string) => eventually(async () => (await r.outboxOf(orderId)).every((o) => o.status === 'done' || o.status === 'failed'), 20_000)

it('two modifies of an order held for a session: placed at the last, and the first does not follow it', async () => {
  const worker = await h.startWorker()
  try {
    const w = await bareWallet(h)
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date(h.sandbox.now()))
    await worker.relay()
    await eventually(async () => (await r.outboxOf(order.id)).some((o) => o.kind === 'Order' && o.status === 'held'))
    // Through the mark (2000), then corrected before anything went out.
    const first = await requestModify(h.db, worker.markets, { orderId: order.id, price: '2050', size: '0.1' })
    const last = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1950', size: '0.2' })
    await worker.relay()
    await grant(h, w)
    await finished(order.id)
    expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'open', price: 1950n * E18, size: E18 / 5n, filled: 0n })
    const work = await r.outboxOf(order.id)
    expect(work.find((o) => o.id === last.outboxId)?.status).toBe('done')
    expect(work.find((o) => o.id === first.outboxId)).toMatchObject({ status: 'done', lastError: expect.stringMatching(/superseded/) })
    expect((await r.order(order.id)).state).toBe('open')
  } finally {
    await worker.close()
  }
})

it('two modifies of a live order queued while no worker ran: only the last goes out', async () => {
  const running = await h.startWorker()
  const w = await activeWallet(h)
  const order = await place(h, running, w.wallet.id, { price: '1900', size: '0.1' })
  await settled(h.db, order.id, 'open')
  await running.close()
  // Queued behind a backed-up (here, stopped) worker: through the mark, then corrected.
  const first = await requestModify(h.db, running.markets, { orderId: order.id, price: '2050', size: '0.1' })
  const last = await requestModify(h.db, running.markets, { orderId: order.id, price: '1950', size: '0.2' })
  const worker = await h.startWorker()
  try {
    await worker.relay()
    await finished(order.id)
    expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'open', price: 1950n * E18, size: E18 / 5n, filled: 0n })
    const work = await r.outboxOf(order.id)
    expect(work.find((o) => o.id === last.outboxId)).toMatchObject({ status: 'done', lastError: null })
    expect(work.find((o) => o.id === first.outboxId)).toMatchObject({ status: 'done', lastError: expect.stringMatching(/superseded/) })
    const stored = await r.order(order.id)
    expect([stored.state, Number(stored.price), Number(stored.size), Number(stored.filled)]).toEqual(['open', 1950, 0.2, 0])
  } finally {
    await worker.close()
  }
})
