/**
 * Local policy limits against orders submitted together: the worker sends many of a wallet's
 * orders at once (WORKER_CONCURRENCY), so each order's check runs while the others are on their
 * way to the operator, not yet open. A limit must count those too: counting only open orders,
 * five of six orders went live under maxOpenOrders 2; counting every order claimed with it, one.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { setPolicy } from '../../src/runtime/policy/setPolicy.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, eventually, operatorOpenOrders, rows } from './support/lifecycle.js'

let h: Harness
let worker: RunningWorker
let r: ReturnType<typeof rows>

beforeAll(async () => {
  h = await createHarness()
  r = rows(h.db)
  worker = await h.startWorker()
})
afterAll(async () => { await h?.close() })

it('maxOpenOrders holds for orders submitted together', async () => {
  const w = await activeWallet(h)
  await setPolicy(h.db, { walletId: w.wallet.id, rules: { maxOpenOrders: 2 } })
  for (let i = 0; i < 6; i++) {
    await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date(h.sandbox.now()))
  }
  await worker.relay()
  const settledOrders = await eventually(async () => {
    const all = await r.ordersOf(w.wallet.id)
    return all.length === 6 && all.every((o) => o.state === 'open' || o.state === 'rejected') && all
  })
  // Exactly up to the limit: neither past it (each check counting only open orders), nor short of it
  // (each counting every order claimed with it, checked or not).
  expect(operatorOpenOrders(h.sandbox, w.wallet.address).length).toBe(2)
  expect(settledOrders.filter((o) => o.state === 'open').length).toBe(2)
  // The rest are refused locally.
  for (const o of settledOrders.filter((x) => x.state === 'rejected')) expect([o.rejectCode, o.rejectReason?.split(':')[0]]).toEqual(['LOCAL.POLICY', 'wallet policy maxOpenOrders'])
})

it('maxDailyNotional holds for orders submitted together, and lets through all that fit', async () => {
  const w = await activeWallet(h)
  // 190 each: two fit under 400, a third would not.
  await setPolicy(h.db, { walletId: w.wallet.id, rules: { maxDailyNotional: '400' } })
  for (let i = 0; i < 6; i++) {
    await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date(h.sandbox.now()))
  }
  await worker.relay()
  const settledOrders = await eventually(async () => {
    const all = await r.ordersOf(w.wallet.id)
    return all.length === 6 && all.every((o) => o.state === 'open' || o.state === 'rejected') && all
  })
  expect(operatorOpenOrders(h.sandbox, w.wallet.address).length).toBe(2)
  for (const o of settledOrders.filter((x) => x.state === 'rejected')) expect([o.rejectCode, o.rejectReason?.split(':')[0]]).toEqual(['LOCAL.POLICY', 'wallet policy maxDailyNotional'])
})
