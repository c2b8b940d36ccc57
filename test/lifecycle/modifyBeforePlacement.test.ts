/**
 * A modify of an order whose placement has not gone out yet (held for want of a session, or queued
 * behind others) is what gets placed: the operator never sees the old price. Queued behind the
 * placement instead, the old one went out first, and one through the mark filled at once.
 */
import { expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { bareWallet, eventually, grant, operatorOrder } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const t = workerForFile()

it('a modify of an order still held for a session is what gets placed', async () => {
  const w = await bareWallet(t.h)
  // Through the mark (2000): placed as it was asked first, it would fill at once.
  const { order } = await placeLimitOrder(t.h.db, t.worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '2050', size: '0.1' }, new Date(t.h.sandbox.now()))
  await t.worker.relay()
  await eventually(async () => (await t.r.outboxOf(order.id)).some((o) => o.kind === 'Order' && o.status === 'held'))
  await requestModify(t.h.db, t.worker.markets, { orderId: order.id, price: '1900', size: '0.2' })
  await t.worker.relay()
  await grant(t.h, w)
  await eventually(async () => (await t.r.outboxOf(order.id)).every((o) => o.status === 'done' || o.status === 'failed'), 20_000)
  const final = await t.r.order(order.id)
  expect([final.state, Number(final.price), Number(final.size), Number(final.filled)]).toEqual(['open', 1900, 0.2, 0])
  const there = operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)
  expect([there?.status, there?.filled]).toEqual(['open', 0n])
  // The modify's work still reports accepted (it followed the placement and changed nothing there).
  expect((await t.r.outboxOf(order.id)).map((o) => `${o.kind}:${o.status}`)).toEqual(['Order:done', 'ModifyOrder:done'])
})

it('a modify of an order already placed goes out as a ModifyOrder, as before', async () => {
  const w = await bareWallet(t.h)
  await grant(t.h, w)
  const { order } = await placeLimitOrder(t.h.db, t.worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1950', size: '0.1' }, new Date(t.h.sandbox.now()))
  await t.worker.relay()
  await eventually(async () => (await t.r.order(order.id)).state === 'open')
  await requestModify(t.h.db, t.worker.markets, { orderId: order.id, price: '1940', size: '0.1' })
  await t.worker.relay()
  await eventually(async () => (await t.r.outboxOf(order.id)).every((o) => o.status === 'done'), 20_000)
  expect(Number((await t.r.order(order.id)).price)).toBe(1940)
  expect(operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)?.price).toBe(1940n * 10n ** 18n)
})

it('under a session without ModifyOrder (the default scope), a modify the placement took needs no ModifyOrder: done, neither refused nor held for a scope change', async () => {
  const w = await bareWallet(t.h)
  const { order } = await placeLimitOrder(t.h.db, t.worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '2050', size: '0.1' }, new Date(t.h.sandbox.now()))
  await t.worker.relay()
  await eventually(async () => (await t.r.outboxOf(order.id)).some((o) => o.kind === 'Order' && o.status === 'held'))
  const { outboxId } = await requestModify(t.h.db, t.worker.markets, { orderId: order.id, price: '1900', size: '0.2' })
  await t.worker.relay()
  await grant(t.h, w, { families: ['Order', 'CancelOrder', 'CancelAll'] })
  await eventually(async () => (await t.r.outboxOf(order.id)).every((o) => o.status === 'done' || o.status === 'failed'), 20_000)
  expect(operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'open', price: 1900n * 10n ** 18n, size: 2n * 10n ** 17n })
  const modify = (await t.r.outboxOf(order.id)).find((o) => o.id === outboxId)
  expect(modify).toMatchObject({ status: 'done', lastError: expect.stringMatching(/^placed with this modification's price and size/) })
})
