/**
 * A cancel asked again (a user clicking twice, a client retrying without an Idempotency-Key) while the
 * order's first cancel is still queued or in flight is answered as the first was, 202 with that
 * cancel's outboxId, and queues nothing: before, it queued a second CancelOrder, which went to the
 * operator after the first and was refused (the order no longer open), a refusal in the order's work
 * for a cancel that did what was asked. Once the first has failed for good, a new ask queues a new cancel.
 */
import { and, eq } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { outbox, requests } from '../../src/store/schema/index.js'
import { apiHarnessForFile, eventually, grantThroughApi, tradingWallet } from './support/apiHarness.js'

const file = apiHarnessForFile()
type Order = { id: string; state: string; cancelReason: string | null }
type Work = { status: string; note: string | null }

const cancelsOf = (orderId: string) => file.api.h.db.select({ id: outbox.id, status: outbox.status }).from(outbox)
  .where(and(eq(outbox.orderId, orderId), eq(outbox.kind, 'CancelOrder'))).orderBy(outbox.seq)

it('a second cancel while the first is on its way answers the first, and one CancelOrder reaches the operator', async () => {
  const { api, tenant } = file
  const { wallet } = await tradingWallet(api, tenant)
  const order = (await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1800', size: '0.1' })).json<Order>()
  await eventually(async () => (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order>().state === 'open')
  // The operator answers 503 for now: the first cancel stays queued, retried.
  api.h.sandbox.setFaults({ errorRate: 1 })
  try {
    const first = await tenant.request('POST', `/v1/orders/${order.id}/cancel`, {})
    expect(first.statusCode).toBe(202)
    const second = await tenant.request('POST', `/v1/orders/${order.id}/cancel`, {})
    expect({ statusCode: second.statusCode, body: second.json() }).toEqual({ statusCode: first.statusCode, body: first.json() })
    expect((await cancelsOf(order.id)).map((row) => row.id)).toEqual([first.json<{ outboxId: string }>().outboxId])
  } finally {
    api.h.sandbox.setFaults({ errorRate: 0 })
  }
  await eventually(async () => (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order>().state === 'cancelled', 20_000)
  await eventually(async () => (await cancelsOf(order.id)).every((row) => row.status === 'done'), 20_000)
  const sent = await api.h.db.select({ family: requests.family, status: requests.status }).from(requests).where(and(eq(requests.orderId, order.id), eq(requests.family, 'CancelOrder')))
  expect(sent).toEqual([{ family: 'CancelOrder', status: 'accepted' }])
  // Once cancelled, asking again is refused as for any order no longer open.
  expect((await tenant.request('POST', `/v1/orders/${order.id}/cancel`, {})).statusCode).toBe(409)
}, 60_000)

it('after the first cancel failed for good, asking again queues a new cancel', async () => {
  const { api, tenant } = file
  const created = (await tenant.request('POST', '/v1/wallets', { generate: true })).json<{ id: string; address: string }>()
  api.h.sandbox.fund(created.address, 'USD', '1000000')
  // A session that may place and CancelAll, but not CancelOrder: a cancel fails for good (LOCAL.ACL_SCOPE), never held.
  expect((await grantThroughApi(tenant, created.id, { lifetimeSeconds: 24 * 3600, families: ['Order', 'CancelAll'] })).statusCode).toBe(201)
  const order = (await tenant.request('POST', `/v1/wallets/${created.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1800', size: '0.1' })).json<Order>()
  await eventually(async () => (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order>().state === 'open')
  const first = (await tenant.request('POST', `/v1/orders/${order.id}/cancel`, {})).json<{ outboxId: string }>()
  const failed = await eventually(async () => { const work = (await tenant.request('GET', `/v1/work/${first.outboxId}`)).json<Work>(); return work.status === 'failed' && work }, 20_000)
  expect(failed.note).toMatch(/CancelOrder/)
  const again = await tenant.request('POST', `/v1/orders/${order.id}/cancel`, {})
  expect(again.statusCode).toBe(202)
  const second = again.json<{ outboxId: string }>()
  expect(second.outboxId).not.toBe(first.outboxId)
  expect((await cancelsOf(order.id)).map((row) => row.id)).toEqual([first.outboxId, second.outboxId])
}, 60_000)
