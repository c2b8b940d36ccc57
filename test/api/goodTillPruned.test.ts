/**
 * History pruning and good-till cancels: one whose order ended for good (filled) past the retention
 * is deleted, though not yet due (queued at intake for a good-till in 9999, it would otherwise stay
 * for ever, only to find the order ended); one of an order still working is kept.
 */
import { and, eq } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { pruneHistory } from '../../src/store/repositories/pruneHistory.js'
import { orders, outbox } from '../../src/store/schema/index.js'
import { apiHarnessForFile, eventually, tradingWallet } from './support/apiHarness.js'

const file = apiHarnessForFile()
const DAY = 24 * 3600 * 1000

it("deletes a filled order's good-till cancel past the retention, and keeps a working order's", async () => {
  const { api, tenant } = file
  const { wallet } = await tradingWallet(api, tenant)
  const goodTill = '9999-12-31T23:59:59Z'
  const orderState = async (id: string) => (await tenant.request('GET', `/v1/orders/${id}`)).json<{ state: string }>().state
  const resting = (await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1', goodTill })).json<{ id: string }>()
  // At the mark: filled at once.
  const filled = (await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '2000', size: '0.1', goodTill })).json<{ id: string }>()
  await eventually(async () => (await orderState(resting.id)) === 'open' && (await orderState(filled.id)) === 'filled', 20_000)
  const goodTillOf = async (orderId: string) => (await api.h.db.select({ id: outbox.id }).from(outbox)
    .where(and(eq(outbox.orderId, orderId), eq(outbox.kind, 'CancelOrder'))))[0]!.id
  const [filledGoodTill, restingGoodTill] = [await goodTillOf(filled.id), await goodTillOf(resting.id)]
  const work = async (id: string) => (await tenant.request('GET', `/v1/work/${id}`)).statusCode

  // Within the retention, both are kept.
  await pruneHistory(api.h.db, { before: new Date(Date.now() - 30 * DAY) })
  expect([await work(filledGoodTill), await work(restingGoodTill)]).toEqual([200, 200])
  // Both orders last changed 40 days ago: the filled one ended then, the resting one still works.
  await api.h.db.update(orders).set({ updatedAt: new Date(Date.now() - 40 * DAY) }).where(eq(orders.walletId, wallet.id))
  expect((await pruneHistory(api.h.db, { before: new Date(Date.now() - 30 * DAY) })).outbox).toBeGreaterThanOrEqual(1)
  expect([await work(filledGoodTill), await work(restingGoodTill)]).toEqual([404, 200])
}, 60_000)
