/**
 * The status view's queued work and good-till cancels: an order's good-till cancel waits for its
 * time, and is queued work while the order works; once the order has ended (filled, cancelled by its
 * user) it will never go out, and a good-till time far ahead (a year, or 9999) would show it queued
 * for that long.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type ApiHarness, type Tenant, createApiHarness, eventually, tradingWallet } from './support/apiHarness.js'

let api: ApiHarness
let tenant: Tenant

beforeAll(async () => {
  api = await createApiHarness()
  tenant = await api.tenant()
})
afterAll(async () => { await api?.close() })

const queued = async () => (await tenant.request('GET', '/v1/status')).json<{ work: { queued: number } }>().work.queued
const orderState = async (id: string) => (await tenant.request('GET', `/v1/orders/${id}`)).json<{ state: string }>().state

it("counts an order's good-till cancel as queued while the order works, and not once the order has ended", async () => {
  const { wallet } = await tradingWallet(api, tenant)
  const goodTill = '9999-12-31T23:59:59Z'
  const resting = (await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1', goodTill })).json<{ id: string }>()
  // At the mark: filled at once.
  const filled = (await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '2000', size: '0.1', goodTill })).json<{ id: string }>()
  await eventually(async () => (await orderState(resting.id)) === 'open' && (await orderState(filled.id)) === 'filled')
  // The resting order's good-till cancel is still to go out; the filled one's never will.
  await eventually(async () => (await queued()) === 1)

  const cancel = await tenant.request('POST', `/v1/orders/${resting.id}/cancel`, {})
  expect(cancel.statusCode).toBe(202)
  await eventually(async () => (await orderState(resting.id)) === 'cancelled')
  await eventually(async () => (await queued()) === 0)
  expect(await queued()).toBe(0)
})
