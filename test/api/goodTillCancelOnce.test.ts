/**
 * One CancelOrder per order reaches the operator when a user's cancel and the order's good-till time
 * meet. A good-till cancel that comes due while another cancel of the order is queued or on the wire
 * waits for it, and stands down once it has cancelled the order (settled here, never sent, audit
 * `CancelOrder.stoodDown`); before, it was signed and sent too, a second CancelOrder the operator
 * refused. A cancel is never lost: if the one it waited for fails for good, it goes out itself.
 */
import { and, eq } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { auditLog, outbox, requests } from '../../src/store/schema/index.js'
import type { WireRequest } from '../lifecycle/support/gateProxy.js'
import { apiHarnessForFile, eventually, tradingWallet } from './support/apiHarness.js'

const file = apiHarnessForFile({ gate: true })
type Order = { id: string; state: string; cancelReason: string | null }

const cancelsOf = (orderId: string) => file.api.h.db.select({ id: outbox.id, status: outbox.status, payload: outbox.payload, lastError: outbox.lastError }).from(outbox)
  .where(and(eq(outbox.orderId, orderId), eq(outbox.kind, 'CancelOrder'))).orderBy(outbox.seq)
const cancelRequestsOf = (orderId: string) => file.api.h.db.select({ outboxId: requests.outboxId, status: requests.status }).from(requests)
  .where(and(eq(requests.orderId, orderId), eq(requests.family, 'CancelOrder')))
const sleepUntil = (time: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())))

/** A resting order with a good-till time `inMs` from now, open at the operator; and the CancelOrders the gate sees, one entry per signed message. */
async function restingGoodTill(inMs: number) {
  const { api, tenant } = file
  const { wallet } = await tradingWallet(api, tenant)
  // Held from before the placement: a good-till cancel that came before the order was seen open
  // (a slow placement on a loaded machine) is held all the same. The gate takes CancelOrders only.
  const wire = new Set<string>()
  const gate = api.gate!.hold((request: WireRequest) => {
    if (request.family !== 'CancelOrder') return false
    // The same bytes resent after a timeout are one request.
    wire.add(JSON.stringify(request.message))
    return true
  })
  try {
    const goodTill = Date.now() + inMs
    const placed = await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1800', size: '0.1', goodTill: new Date(goodTill).toISOString() })
    expect(placed.statusCode).toBe(201)
    const order = placed.json<Order>()
    await eventually(async () => (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order>().state === 'open', 20_000)
    return { order, goodTill, wire, gate }
  } catch (error) {
    gate.release()
    throw error
  }
}

/** Runs `test` with a good-till order's gate, released after it whatever happens (a gate left holding would hold the next test's cancels). */
async function withGoodTillOrder(inMs: number, test: (held: Awaited<ReturnType<typeof restingGoodTill>>) => Promise<void>): Promise<void> {
  const held = await restingGoodTill(inMs)
  try {
    await test(held)
  } finally {
    held.gate.release()
  }
}

it('a user\'s cancel on the wire when the good-till time comes: the good-till cancel stands down, one CancelOrder sent', async () => {
  const { api, tenant } = file
  await withGoodTillOrder(5_000, async ({ order, goodTill, wire, gate }) => {
    const asked = await tenant.request('POST', `/v1/orders/${order.id}/cancel`, {})
    expect(asked.statusCode).toBe(202)
    const userCancel = asked.json<{ outboxId: string }>().outboxId
    await gate.arrived
    // Past the good-till time, and past the cancel lane's grace for it.
    await sleepUntil(goodTill + 3_000)
    expect(wire.size).toBe(1)
    gate.release()

    await eventually(async () => (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order>().state === 'cancelled', 20_000)
    const cancels = await eventually(async () => { const rows = await cancelsOf(order.id); return rows.every((row) => row.status === 'done') && rows }, 20_000)
    const goodTillCancel = cancels.find((row) => row.payload.reason === 'goodTill')!
    expect(cancels.map((row) => row.id)).toContain(userCancel)
    expect(goodTillCancel.lastError).toMatch(/stood down/)
    expect((await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order>().cancelReason).toBe('user')
    expect(await cancelRequestsOf(order.id)).toEqual([{ outboxId: userCancel, status: 'accepted' }])
    expect(wire.size).toBe(1)
    const stoodDown = await api.h.db.select({ details: auditLog.details }).from(auditLog).where(eq(auditLog.action, 'CancelOrder.stoodDown'))
    expect(stoodDown.map((entry) => entry.details)).toContainEqual(expect.objectContaining({ outboxId: goodTillCancel.id, orderId: order.id, for: userCancel }))
  })
}, 60_000)

it('the user\'s cancel refused for good after the good-till time came: the good-till cancel still cancels the order', async () => {
  const { tenant } = file
  await withGoodTillOrder(5_000, async ({ order, goodTill, wire, gate }) => {
    const userCancel = (await tenant.request('POST', `/v1/orders/${order.id}/cancel`, {})).json<{ outboxId: string }>().outboxId
    await gate.arrived
    await sleepUntil(goodTill + 3_000)
    expect(wire.size).toBe(1)
    // The operator refuses the user's cancel (a terminal answer): the order is still open there.
    gate.refuse({ status: 400, body: { error: { code: 'InvalidRequest', message: 'refused by the test' } } })

    // Settled, the good-till cancel's receipt is stored: the operator's event (reason `user` for every
    // CancelOrder) may have been applied before it, and the receipt names the cancel's reason.
    const cancels = await eventually(async () => { const rows = await cancelsOf(order.id); return rows.length === 2 && rows.every((row) => row.status === 'done' || row.status === 'failed') && rows }, 20_000)
    expect(cancels.find((row) => row.id === userCancel)?.status).toBe('failed')
    const goodTillCancel = cancels.find((row) => row.payload.reason === 'goodTill')!
    expect(goodTillCancel.status).toBe('done')
    const cancelled = (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order>()
    expect(cancelled.state).toBe('cancelled')
    expect(cancelled.cancelReason).toBe('goodTill')
    // Each signed once: the user's refused, then the good-till's, sent once the user's had failed.
    const sent = await cancelRequestsOf(order.id)
    expect(sent.map((request) => request.outboxId).sort()).toEqual([userCancel, goodTillCancel.id].sort())
    expect(sent.find((request) => request.outboxId === goodTillCancel.id)?.status).toBe('accepted')
  })
}, 60_000)

it('the good-till cancel on the wire: a user\'s cancel asked then answers it, and nothing else is sent', async () => {
  const { tenant } = file
  await withGoodTillOrder(6_000, async ({ order, wire, gate }) => {
    await gate.arrived
    const goodTillCancel = (await cancelsOf(order.id)).find((row) => row.payload.reason === 'goodTill')!
    const asked = await tenant.request('POST', `/v1/orders/${order.id}/cancel`, {})
    expect(asked.statusCode).toBe(202)
    expect(asked.json<{ outboxId: string }>().outboxId).toBe(goodTillCancel.id)
    gate.release()
    const cancelled = await eventually(async () => { const got = (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order>(); return got.state === 'cancelled' && got }, 20_000)
    expect(cancelled.cancelReason).toBe('goodTill')
    expect(await cancelRequestsOf(order.id)).toEqual([{ outboxId: goodTillCancel.id, status: 'accepted' }])
    expect(wire.size).toBe(1)
  })
}, 60_000)
