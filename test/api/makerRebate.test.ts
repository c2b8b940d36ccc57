/**
 * An operator that pays maker rebates reports a resting order's fill with a negative fee, and the
 * worker stores it as such (test/worker/makerRebate.test.ts). The API shows it as it is: the fill's
 * fee and the order's fees below zero. Presented through the non-negative amount parser, the order
 * answered 422 `amount: must not be negative`, and so did every list holding it (the tenant's
 * orders, the status view), until the order left them.
 */
import { eq } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { orders } from '../../src/store/schema/index.js'
import { apiHarnessForFile, eventually, tradingWallet } from './support/apiHarness.js'

// A 2 bps rebate to the maker.
const file = apiHarnessForFile({ sandbox: { fees: { takerBps: 5, makerBps: -2 } } })

it("shows a maker rebate's negative fee on the order, its fill, and the lists holding it", async () => {
  const { api, tenant } = file
  const { wallet } = await tradingWallet(api, tenant)
  const placed = await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' })
  expect(placed.statusCode, placed.body).toBe(201)
  const orderId = placed.json<{ id: string }>().id
  await eventually(async () => (await tenant.request('GET', `/v1/orders/${orderId}`)).json<{ state?: string }>().state === 'open')
  expect(api.h.sandbox.setMark('ETH-USD', '1900')).toBe(1)
  // Filled in the database, which the API presents, with the rebate counted.
  await eventually(async () => (await api.h.db.select({ state: orders.state }).from(orders).where(eq(orders.id, orderId)))[0]?.state === 'filled')

  const one = await tenant.request('GET', `/v1/orders/${orderId}`)
  expect(one.statusCode, one.body).toBe(200)
  // 1900 × 0.1 = 190 of notional; 2 bps of it paid back.
  expect(one.json()).toMatchObject({ state: 'filled', filled: '0.1', fees: '-0.038', fills: [{ price: '1900', size: '0.1', fee: '-0.038' }] })
  const all = await tenant.request('GET', `/v1/orders?state=all&walletId=${wallet.id}`)
  expect(all.statusCode, all.body).toBe(200)
  expect(all.json<{ orders: { id: string; fees: string }[] }>().orders).toEqual([expect.objectContaining({ id: orderId, fees: '-0.038' })])
})
