import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SessionKey } from '../../src/keys/SessionKey.js'
import { sessions } from '../../src/store/schema/index.js'
import { type ApiHarness, type Tenant, createApiHarness, eventually, grantThroughApi, tradingWallet } from './support/apiHarness.js'

let api: ApiHarness
let tenant: Tenant

beforeAll(async () => {
  api = await createApiHarness()
  tenant = await api.tenant()
})
afterAll(async () => { await api?.close() })

type Order = { id: string; clientOrderId: string; state: string; filled: string; averagePrice: string | null; price: string; size: string; fills?: { price: string; size: string }[] }

describe('wallets', () => {
  it('creates a development wallet, registers an address, gets and lists them', async () => {
    const generated = await tenant.request('POST', '/v1/wallets', { generate: true })
    expect(generated.statusCode).toBe(201)
    const wallet = generated.json<{ id: string; address: string; status: string; canSignDelegation: boolean }>()
    expect(wallet).toMatchObject({ status: 'awaiting_delegation', canSignDelegation: true })
    expect(wallet.address).toMatch(/^0x[0-9a-fA-F]{40}$/)

    const address = '0x00000000000000000000000000000000000000a1'
    const registered = await tenant.request('POST', '/v1/wallets', { address })
    expect(registered.statusCode).toBe(201)
    expect(registered.json()).toMatchObject({ address: '0x00000000000000000000000000000000000000A1', canSignDelegation: false })
    const again = await tenant.request('POST', '/v1/wallets', { address })
    expect(again.statusCode).toBe(200)
    expect(again.json<{ id: string }>().id).toBe(registered.json<{ id: string }>().id)

    const got = await tenant.request('GET', `/v1/wallets/${wallet.id}`)
    expect(got.statusCode).toBe(200)
    expect(got.json()).toMatchObject({ id: wallet.id, address: wallet.address })
    const listed = await tenant.request('GET', '/v1/wallets')
    expect(listed.json<{ wallets: { id: string }[] }>().wallets.map((w) => w.id)).toEqual(expect.arrayContaining([wallet.id, registered.json<{ id: string }>().id]))
  })
})

describe('sessions', () => {
  it("shows when sessions failed, and until when the wallet's automatic grants wait after repeated failures", async () => {
    const { wallet, session } = await tradingWallet(api, tenant)
    const waitUntil = async () => {
      const one = (await tenant.request('GET', `/v1/wallets/${wallet.id}`)).json<{ automaticGrantsWaitUntil: string | null }>()
      const listed = (await tenant.request('GET', '/v1/wallets')).json<{ wallets: { id: string; automaticGrantsWaitUntil: string | null }[] }>()
      const status = (await tenant.request('GET', '/v1/status')).json<{ wallets: { id: string; automaticGrantsWaitUntil: string | null }[] }>()
      const views = [one.automaticGrantsWaitUntil, ...[listed.wallets, status.wallets].map((all) => all.find((w) => w.id === wallet.id)!.automaticGrantsWaitUntil)]
      expect(new Set(views).size).toBe(1)
      return views[0]
    }
    expect(await waitUntil()).toBeNull()
    expect((await tenant.request('GET', `/v1/sessions/${session.id}`)).json()).toMatchObject({ status: 'active', failedAt: null })

    // Earlier sessions of the wallet that failed (as a grant whose signer failed, or one the operator refused, records).
    const [active] = await api.h.db.select().from(sessions).where(eq(sessions.id, session.id))
    const failed = async (agoMs: number) => {
      const [row] = await api.h.db.insert(sessions).values({
        ...active!, id: randomUUID(), status: 'revoked', statusReason: 'operator answered SessionUnauthorized', publicKey: SessionKey.generate().publicKey, delegationHash: null, delegatedPayload: null, failedAt: new Date(Date.now() - agoMs),
      }).returning()
      return row!
    }
    const old = await failed(2 * 3600_000)
    await failed(3600_000 + 60_000)
    // Failures older than an hour do not count, and one recent failure is replaced at once.
    const first = await failed(20_000)
    expect(await waitUntil()).toBeNull()
    const second = await failed(5_000)
    expect(await waitUntil()).toBe(new Date(second.failedAt!.getTime() + 30_000).toISOString())
    const third = await failed(1_000)
    expect(await waitUntil()).toBe(new Date(third.failedAt!.getTime() + 60_000).toISOString())
    expect((await tenant.request('GET', `/v1/sessions/${first.id}`)).json()).toMatchObject({ status: 'revoked', failedAt: first.failedAt!.toISOString() })
    expect((await tenant.request('GET', `/v1/sessions/${old.id}`)).json()).toMatchObject({ failedAt: old.failedAt!.toISOString() })
  })

  it('grants, reads, lists, rotates and revokes, never showing key material; an order the revoked session placed links to its replacement', async () => {
    const { wallet, session } = await tradingWallet(api, tenant)
    const resting = (await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1700', size: '0.2' })).json<Order>()
    const order = async (id: string) => (await tenant.request('GET', `/v1/orders/${id}`)).json<Order & { cancelReason: string | null; replacedBy: string | null; sessionId: string | null }>()
    // The session is stored with the receipt, which the stream's OrderAccepted can overtake.
    expect(await eventually(async () => { const o = await order(resting.id); return o.state === 'open' && o.sessionId !== null && o })).toMatchObject({ replacedBy: null, sessionId: session.id })
    const got = await tenant.request('GET', `/v1/sessions/${session.id}`)
    expect(got.statusCode).toBe(200)
    expect(got.json()).toMatchObject({ id: session.id, walletId: wallet.id, status: 'active', aclScope: ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'] })
    expect(got.body).not.toMatch(/sealed|privateKey|delegatedPayload/i)

    const rotated = await tenant.request('POST', `/v1/wallets/${wallet.id}/sessions/rotate`, { families: ['Order', 'CancelOrder'] })
    expect(rotated.statusCode).toBe(201)
    const next = rotated.json<{ session: { id: string; status: string; aclScope: string[] }; replaced: string[] }>()
    expect(next.session).toMatchObject({ status: 'active', aclScope: ['Order', 'CancelOrder'] })
    expect(next.replaced).toEqual([session.id])

    const listed = await tenant.request('GET', `/v1/wallets/${wallet.id}/sessions`)
    expect(listed.json<{ sessions: { id: string; status: string }[] }>().sessions.map((s) => [s.id, s.status])).toEqual([[next.session.id, 'active'], [session.id, 'rotating']])
    const onlyActive = await tenant.request('GET', `/v1/wallets/${wallet.id}/sessions?status=active`)
    expect(onlyActive.json<{ sessions: unknown[] }>().sessions).toHaveLength(1)

    const revoked = await tenant.request('POST', `/v1/sessions/${session.id}/revoke`, { reason: 'test' })
    expect(revoked.statusCode).toBe(200)
    expect(revoked.json()).toMatchObject({ id: session.id, status: 'revoked', statusReason: 'test' })
    // Revoking cancelled the old session's order at the operator; the same intent was placed again under the new session.
    const ended = await eventually(async () => { const o = await order(resting.id); return o.replacedBy !== null && o })
    expect(ended).toMatchObject({ state: 'cancelled', cancelReason: 'sessionRevoked' })
    const replacement = await eventually(async () => { const o = await order(ended.replacedBy!); return o.state === 'open' && o })
    expect(replacement).toMatchObject({ walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1700', size: '0.2', replacedBy: null })
    // Which session placed each: revoking a session cancels the orders it placed.
    expect(await eventually(async () => (await order(replacement.id)).sessionId)).toBe(next.session.id)
    expect((await order(resting.id)).sessionId).toBe(session.id)
    expect(replacement.clientOrderId).not.toBe(resting.clientOrderId)
    // A change asked of the cancelled order is refused, naming the order to use instead.
    const refused = await tenant.request('POST', `/v1/orders/${resting.id}/modify`, { price: '1710', size: '0.2' })
    expect(refused.statusCode).toBe(409)
    expect(refused.json<{ error: { field: string; rule: string } }>().error).toMatchObject({
      field: 'orderId', rule: `the order is cancelled; it cannot be modified (its session ended and it was placed again as ${replacement.id}: use that order)`,
    })
  })
})

describe('limit orders', () => {
  it('places an order that rests, modifies it, fills it, and shows fills and the average price', async () => {
    const { wallet } = await tradingWallet(api, tenant)
    const placed = await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5', clientRef: 'first' })
    expect(placed.statusCode).toBe(201)
    const order = placed.json<Order & { clientRef: string }>()
    expect(order).toMatchObject({ market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5', timeInForce: 'GTC', clientRef: 'first' })
    const sameRef = await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5', clientRef: 'first' })
    expect(sameRef.statusCode).toBe(200)
    expect(sameRef.json<Order>().id).toBe(order.id)

    await eventually(async () => (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order>().state === 'open')
    const modified = await tenant.request('POST', `/v1/orders/${order.id}/modify`, { price: '1991.5', size: '0.6' })
    expect(modified.statusCode).toBe(202)
    expect(modified.json()).toMatchObject({ status: 'queued' })
    await eventually(async () => (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order>().price === '1991.5')
    const work = await tenant.request('GET', `/v1/work/${modified.json<{ outboxId: string }>().outboxId}`)
    expect(work.statusCode).toBe(200)
    expect(work.json()).toMatchObject({
      kind: 'ModifyOrder', walletId: wallet.id, orderId: order.id, status: 'done', accepted: true, note: null,
      requests: [{ family: 'ModifyOrder', status: 'accepted', duplicate: false, errorCode: null, sentAt: expect.any(String), completedAt: expect.any(String) }],
    })

    api.h.sandbox.setMark('ETH-USD', '1980')
    const filled = await eventually(async () => { const o = (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order>(); return o.state === 'filled' && o })
    api.h.sandbox.setMark('ETH-USD', '2000')
    expect(filled).toMatchObject({ filled: '0.6', averagePrice: '1991.5' })
    expect(filled.fills!.map((f) => [f.price, f.size])).toEqual([['1991.5', '0.6']])

    const listed = await tenant.request('GET', `/v1/orders?walletId=${wallet.id}&state=all`)
    expect(listed.json<{ orders: Order[] }>().orders.map((o) => o.id)).toEqual([order.id])
    const working = await tenant.request('GET', `/v1/orders?walletId=${wallet.id}`)
    expect(working.json<{ orders: Order[] }>().orders).toEqual([])
  })

  it('cancels one order, and CancelAll cancels the rest', async () => {
    const { wallet } = await tradingWallet(api, tenant)
    const ids: string[] = []
    for (const price of ['1800', '1810', '1820']) {
      const placed = await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price, size: '0.1' })
      ids.push(placed.json<Order>().id)
    }
    const state = async (id: string) => (await tenant.request('GET', `/v1/orders/${id}`)).json<Order & { cancelReason: string | null }>()
    await eventually(async () => (await Promise.all(ids.map(state))).every((o) => o.state === 'open'))
    const cancelled = await tenant.request('POST', `/v1/orders/${ids[0]}/cancel`, {})
    expect(cancelled.statusCode).toBe(202)
    await eventually(async () => (await state(ids[0]!)).state === 'cancelled')
    const all = await tenant.request('POST', `/v1/wallets/${wallet.id}/cancel-all`, { market: 'ETH-USD' })
    expect(all.statusCode).toBe(202)
    const rows = await eventually(async () => { const r = await Promise.all(ids.map(state)); return r.every((o) => o.state === 'cancelled') && r })
    expect(rows.map((o) => o.cancelReason)).toEqual(['user', 'cancelAll', 'cancelAll'])
  })
})

type Work = { outboxId: string; kind: string; status: string; accepted: boolean; note: string | null; requests: { family: string; status: string; errorCode: string | null }[] }

describe('queued work', () => {
  const workOf = (outboxId: string) => eventually(async () => {
    const work = (await tenant.request('GET', `/v1/work/${outboxId}`)).json<Work>()
    return work.status !== 'queued' && work
  })

  it('tells why a modify was not applied: the operator refused it', async () => {
    const { wallet } = await tradingWallet(api, tenant, { USD: '10000' })
    const order = (await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1990', size: '1' })).json<Order>()
    await eventually(async () => (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order>().state === 'open')
    // 100 ETH at 1990 needs 199,000 USD; the wallet has 10,000.
    const queued = (await tenant.request('POST', `/v1/orders/${order.id}/modify`, { price: '1990', size: '100' })).json<{ outboxId: string }>()
    const work = await workOf(queued.outboxId)
    expect(work).toMatchObject({ status: 'failed', accepted: false, requests: [{ family: 'ModifyOrder', status: 'rejected', errorCode: 'InsufficientBalance' }] })
    expect(work.note).toMatch(/^InsufficientBalance: USD available 10000 \(with this order's hold\) is below the 199099.5 the modified order needs$/)
    // The order shows its work too: the placement accepted, the modify refused.
    expect((await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order & { work: Work[] }>()).toMatchObject({
      state: 'open', size: '1',
      work: [{ kind: 'Order', status: 'done', accepted: true, note: null }, { outboxId: queued.outboxId, kind: 'ModifyOrder', status: 'failed', accepted: false, note: work.note }],
    })
  })

  it('tells that a cancel settled an order never sent, without a request', async () => {
    // No session: the placement waits (held) for one.
    const wallet = (await tenant.request('POST', '/v1/wallets', { generate: true })).json<{ id: string }>()
    const order = (await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1990', size: '1' })).json<Order>()
    // Its placement has run and waits (held) before the cancel is asked: run after it, the placement's own claim
    // would settle the order first, and the cancel find it cancelled already (as on a loaded host).
    await eventually(async () => (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order & { work: Work[] }>().work[0]?.status === 'held')
    const queued = (await tenant.request('POST', `/v1/orders/${order.id}/cancel`, {})).json<{ outboxId: string }>()
    expect(await workOf(queued.outboxId)).toMatchObject({ status: 'done', accepted: false, note: 'cancelled before submission', requests: [] })
    // The placement's own job may still be queued (relayed before the cancel ran): it settles once it runs.
    const settled = await eventually(async () => {
      const shown = (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order & { work: Work[] }>()
      return shown.work.every((w) => w.status === 'done') && shown
    })
    expect(settled).toMatchObject({
      state: 'cancelled',
      work: [
        { kind: 'Order', status: 'done', accepted: false, note: 'cancelled before submission', requests: [] },
        { outboxId: queued.outboxId, kind: 'CancelOrder', status: 'done', accepted: false, note: 'cancelled before submission', requests: [] },
      ],
    })
  })

  it('answers 404 naming outboxId for work that does not exist', async () => {
    const response = await tenant.request('GET', '/v1/work/00000000-0000-4000-8000-000000000000')
    expect(response.statusCode).toBe(404)
    expect(response.json()).toMatchObject({ error: { code: 'API.NOT_FOUND', field: 'outboxId' } })
    expect(response.json<{ error: { rule: string } }>().error.rule).toContain('settled work is deleted after RETENTION_DAYS')
  })
})

describe('kill switch', () => {
  it('halts a wallet (orders refused, open ones cancelled) and resumes it', async () => {
    const { wallet } = await tradingWallet(api, tenant)
    const placed = (await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'BTC-USD', side: 'buy', price: '50000', size: '0.01' })).json<Order>()
    await eventually(async () => (await tenant.request('GET', `/v1/orders/${placed.id}`)).json<Order>().state === 'open')
    const halted = await tenant.request('POST', `/v1/wallets/${wallet.id}/halt`, { reason: 'incident' })
    expect(halted.statusCode).toBe(200)
    expect(halted.json()).toMatchObject({ wallet: { status: 'halted', haltedReason: 'incident' } })
    await eventually(async () => (await tenant.request('GET', `/v1/orders/${placed.id}`)).json<Order>().state === 'cancelled')
    const refused = await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'BTC-USD', side: 'buy', price: '50000', size: '0.01' })
    expect(refused.statusCode).toBe(422)
    expect(refused.json()).toMatchObject({ error: { code: 'CORE.VALIDATION', field: 'walletId' } })
    // Resumed once its CancelAll is done (before, resuming is refused, naming the work it waits for).
    const { cancelAllOutboxId } = halted.json<{ cancelAllOutboxId: string }>()
    await eventually(async () => (await tenant.request('GET', `/v1/work/${cancelAllOutboxId}`)).json<{ status: string }>().status === 'done')
    const resumed = await tenant.request('POST', `/v1/wallets/${wallet.id}/resume`, {})
    expect(resumed.statusCode).toBe(200)
    expect(resumed.json()).toMatchObject({ status: 'active', haltedReason: null })
  })
})

describe('policy', () => {
  it('sets and gets the wallet policy', async () => {
    const { wallet, session } = await tradingWallet(api, tenant)
    const missing = await tenant.request('GET', `/v1/wallets/${wallet.id}/policy`)
    expect(missing.statusCode).toBe(404)
    const set = await tenant.request('PUT', `/v1/wallets/${wallet.id}/policy`, { rules: { allowedMarkets: ['ETH-USD'], maxOrderNotional: '5000', maxOpenOrders: 3 } })
    expect(set.statusCode).toBe(200)
    expect(set.json()).toMatchObject({ walletId: wallet.id, sessionId: null, rules: { allowedMarkets: ['ETH-USD'], maxOrderNotional: '5000', maxOpenOrders: 3 } })
    const got = await tenant.request('GET', `/v1/wallets/${wallet.id}/policy`)
    expect(got.json()).toMatchObject({ rules: { maxOrderNotional: '5000' } })
    const perSession = await tenant.request('PUT', `/v1/wallets/${wallet.id}/policy`, { sessionId: session.id, rules: { priceBandBps: 100 } })
    expect(perSession.statusCode).toBe(200)
    expect((await tenant.request('GET', `/v1/wallets/${wallet.id}/policy?sessionId=${session.id}`)).json()).toMatchObject({ sessionId: session.id, rules: { priceBandBps: 100 } })
  })
})

describe('schedules', () => {
  it('creates, updates, pauses, resumes, lists, lists runs and deletes a schedule', async () => {
    const { wallet } = await tradingWallet(api, tenant)
    // Yearly, so that no run fires while the test runs (its list of runs below is empty).
    const spec = { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 0 1 1 *', timeZone: 'Europe/Paris', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 }
    const created = await tenant.request('POST', `/v1/wallets/${wallet.id}/schedules`, spec)
    expect(created.statusCode).toBe(201)
    const schedule = created.json<{ id: string; status: string; version: number }>()
    expect(schedule).toMatchObject({ status: 'active', version: 1, targets: { ETH: '0.5', USD: '0.5' }, toleranceBand: '0.02' })
    expect(await api.worker.controlQueue.getJobScheduler(schedule.id)).toBeTruthy()

    const updated = await tenant.request('PATCH', `/v1/schedules/${schedule.id}`, { cron: '0 0 2 1 *', expectedVersion: 1 })
    expect(updated.statusCode).toBe(200)
    expect(updated.json()).toMatchObject({ cron: '0 0 2 1 *', version: 2 })
    // An edit that changes nothing (empty, or the same values in other forms) keeps the version,
    // which a run in flight checks before it writes its orders.
    for (const same of [{}, { cron: '0 0 2 1 *', targets: { USD: '0.50', ETH: '0.5' }, toleranceBand: '0.020' }]) {
      const unchanged = await tenant.request('PATCH', `/v1/schedules/${schedule.id}`, same)
      expect(unchanged.statusCode).toBe(200)
      expect(unchanged.json()).toMatchObject({ cron: '0 0 2 1 *', version: 2 })
    }
    const edits = await tenant.request('GET', `/v1/wallets/${wallet.id}/audit?action=schedule.updated`)
    expect(edits.json<{ entries: unknown[] }>().entries).toHaveLength(1)
    const paused = await tenant.request('POST', `/v1/schedules/${schedule.id}/pause`, {})
    // A pause cancels the schedule's working orders (none here), as a delete does, unless told not to.
    expect(paused.json()).toMatchObject({ status: 'paused', cancelledOrderIds: [] })
    expect(await api.worker.controlQueue.getJobScheduler(schedule.id)).toBeFalsy()
    const keeping = await tenant.request('POST', `/v1/schedules/${schedule.id}/pause?cancelOpenOrders=false`, {})
    expect([keeping.statusCode, keeping.json()]).toEqual([200, expect.objectContaining({ status: 'paused', cancelledOrderIds: [] })])
    const badOption = await tenant.request('POST', `/v1/schedules/${schedule.id}/pause?cancelOpenOrders=no`, {})
    expect(badOption.statusCode).toBe(400)
    const resumed = await tenant.request('POST', `/v1/schedules/${schedule.id}/resume`, {})
    expect(resumed.json()).toMatchObject({ status: 'active' })
    const got = await tenant.request('GET', `/v1/schedules/${schedule.id}`)
    expect(got.json()).toMatchObject({ id: schedule.id, status: 'active', version: 4 })
    const listed = await tenant.request('GET', `/v1/schedules?walletId=${wallet.id}`)
    expect(listed.json<{ schedules: { id: string }[] }>().schedules.map((s) => s.id)).toEqual([schedule.id])
    const runs = await tenant.request('GET', `/v1/schedules/${schedule.id}/runs`)
    expect(runs.statusCode).toBe(200)
    expect(runs.json()).toEqual({ runs: [] })
    const deleted = await tenant.request('DELETE', `/v1/schedules/${schedule.id}`)
    expect(deleted.statusCode).toBe(200)
    expect(deleted.json()).toMatchObject({ schedule: { status: 'deleted' }, cancelledOrderIds: [] })
    expect((await tenant.request('GET', `/v1/schedules?walletId=${wallet.id}`)).json()).toEqual({ schedules: [] })
  })
})

describe('sessions and schedules', () => {
  it('refuses a session whose scope could not run the wallet\'s active schedule, before the wallet is asked to sign; paused, it may', async () => {
    const { wallet, session } = await tradingWallet(api, tenant)
    const spec = { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 0 1 1 *', timeZone: 'UTC', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 }
    const schedule = (await tenant.request('POST', `/v1/wallets/${wallet.id}/schedules`, spec)).json<{ id: string }>()
    const refusals = [
      ['POST', `/v1/wallets/${wallet.id}/sessions`, { families: ['CancelAll'] }, 'families', 'Order and CancelOrder'],
      ['POST', `/v1/wallets/${wallet.id}/sessions`, { needs: { killSwitch: true } }, 'needs', 'Order and CancelOrder'],
      ['POST', `/v1/wallets/${wallet.id}/sessions/rotate`, { families: ['Order', 'CancelAll'] }, 'families', 'CancelOrder'],
      ['POST', `/v1/wallets/${wallet.id}/sessions/rotate`, { families: ['Order', 'ModifyOrder', 'CancelAll'] }, 'families', 'CancelOrder'],
    ] as const
    for (const [method, url, body, field, missing] of refusals) {
      const refused = await tenant.request(method, url, body)
      expect(refused.statusCode, `${url} ${JSON.stringify(body)}`).toBe(422)
      expect(refused.json()).toMatchObject({ error: { code: 'CORE.VALIDATION', field, rule: expect.stringContaining(`must let the session sign ${missing}: the wallet's active schedule (${schedule.id})`) } })
    }
    // Nothing was granted: the active session is still the one the schedule runs on.
    const sessionsOf = async () => (await tenant.request('GET', `/v1/wallets/${wallet.id}/sessions`)).json<{ sessions: { id: string; status: string }[] }>().sessions
    expect((await sessionsOf()).map((s) => [s.id, s.status])).toEqual([[session.id, 'active']])
    // A scope that covers it, or any scope once the schedule is paused, is granted.
    expect((await tenant.request('POST', `/v1/wallets/${wallet.id}/sessions/rotate`, { families: ['Order', 'CancelOrder', 'CancelAll'] })).statusCode).toBe(201)
    await tenant.request('POST', `/v1/schedules/${schedule.id}/pause`, {})
    expect((await tenant.request('POST', `/v1/wallets/${wallet.id}/sessions`, { families: ['CancelAll'] })).statusCode).toBe(201)
  })
})

describe('status, admin and probes', () => {
  it("shows sessions, working orders, schedules, the tenant's own queued work and whether the queues are paused in one view", async () => {
    const { wallet, session } = await tradingWallet(api, tenant)
    await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' })
    const status = await tenant.request('GET', '/v1/status')
    expect(status.statusCode).toBe(200)
    const body = status.json<{ sessions: { id: string }[]; workingOrders: { walletId: string }[]; work: Record<string, number>; queues: Record<string, unknown> }>()
    expect(body.sessions.map((s) => s.id)).toContain(session.id)
    expect(body.workingOrders.some((o) => o.walletId === wallet.id)).toBe(true)
    expect(body.queues).toEqual({ submit: { paused: false }, control: { paused: false } })

    // Another tenant's view shows nothing of this one's activity: no job counts, its own work only.
    const other = await api.tenant()
    const before = (await other.request('GET', '/v1/status')).json<{ work: Record<string, number>; queues: Record<string, unknown> }>()
    await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1501', size: '0.1' })
    const after = (await other.request('GET', '/v1/status')).json<{ work: Record<string, number>; queues: Record<string, unknown> }>()
    expect(after).toEqual(before)
    expect(after.work).toEqual({ queued: 0, held: 0, failed: 0 })

    // The tenant's own: work held for a wallet without a session is counted as held.
    const waiting = (await tenant.request('POST', '/v1/wallets', { generate: true })).json<{ id: string }>()
    await tenant.request('POST', `/v1/wallets/${waiting.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' })
    await eventually(async () => (await tenant.request('GET', '/v1/status')).json<{ work: { held: number } }>().work.held === 1)
  })

  it('lists tenants, adds and revokes an API key', async () => {
    const listed = await api.app.inject({ method: 'GET', url: '/admin/tenants', headers: api.admin })
    expect(listed.json<{ tenants: { id: string; activeKeys: number }[] }>().tenants.find((t) => t.id === tenant.id)).toMatchObject({ activeKeys: 1 })
    const added = await api.app.inject({ method: 'POST', url: `/admin/tenants/${tenant.id}/keys`, headers: api.admin, payload: { label: 'ci' } })
    expect(added.statusCode).toBe(201)
    const key = added.json<{ id: string; key: string; label: string }>()
    expect(key.label).toBe('ci')
    expect((await api.app.inject({ method: 'GET', url: '/v1/wallets', headers: { authorization: `Bearer ${key.key}` } })).statusCode).toBe(200)
    const revoked = await api.app.inject({ method: 'POST', url: `/admin/keys/${key.id}/revoke`, headers: api.admin, payload: {} })
    expect(revoked.statusCode).toBe(200)
    expect((await api.app.inject({ method: 'GET', url: '/v1/wallets', headers: { authorization: `Bearer ${key.key}` } })).statusCode).toBe(401)
  })

  it('answers /healthz and /readyz', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' })
    const ready = await api.app.inject({ method: 'GET', url: '/readyz' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toMatchObject({ status: 'ready', checks: { postgres: { ok: true }, redis: { ok: true }, operator: { ok: true } } })
    // Sharing the worker's queues, it asks their connections, not the worker's own.
    expect(api.deps.redisProbes.map((probe) => probe.name).sort()).toEqual(['control queue', 'submit queue'])
  })
})

describe('session scope', () => {
  it('asks for the narrowest scope by default: orders, cancels and the kill switch, no ModifyOrder, never Unrestricted', async () => {
    const created = await tenant.request('POST', '/v1/wallets', { generate: true })
    const wallet = created.json<{ id: string }>()
    const granted = await grantThroughApi(tenant, wallet.id, { lifetimeSeconds: 24 * 3600 })
    expect(granted.statusCode).toBe(201)
    expect(granted.json<{ session: { aclScope: string[] } }>().session.aclScope).toEqual(['Order', 'CancelOrder', 'CancelAll'])
    const withModify = await tenant.request('POST', `/v1/wallets/${wallet.id}/sessions/rotate`, { lifetimeSeconds: 24 * 3600, families: ['Order', 'ModifyOrder', 'CancelAll'] })
    expect(withModify.json<{ session: { aclScope: string[] } }>().session.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelAll'])
    // A rotation may name what the automation does instead of the families, as a grant may.
    const byNeeds = await tenant.request('POST', `/v1/wallets/${wallet.id}/sessions/rotate`, { lifetimeSeconds: 24 * 3600, needs: { limitOrders: true, modifications: true } })
    expect(byNeeds.statusCode).toBe(201)
    expect(byNeeds.json<{ session: { aclScope: string[] } }>().session.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder'])
    // Neither: the current scope is kept, and so is the lifetime when none is named (a day, not the configured 7).
    const kept = await tenant.request('POST', `/v1/wallets/${wallet.id}/sessions/rotate`, {})
    const keptSession = kept.json<{ session: { aclScope: string[]; expiresInSeconds: number } }>().session
    expect(keptSession.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder'])
    expect(keptSession.expiresInSeconds).toBeGreaterThan(24 * 3600 - 60)
    expect(keptSession.expiresInSeconds).toBeLessThanOrEqual(24 * 3600)
  })

  it('shows the scope the user chose (chosenScope, the floor of the worker\'s rotations) beside the one granted: none by default, the families or needs named, carried by a rotation that names none', async () => {
    const wallet = (await tenant.request('POST', '/v1/wallets', { generate: true })).json<{ id: string }>()
    type Scoped = { session: { id: string; aclScope: string[]; chosenScope: string[] | null } }
    const byDefault = (await grantThroughApi(tenant, wallet.id, { lifetimeSeconds: 24 * 3600 })).json<Scoped>().session
    expect(byDefault).toMatchObject({ aclScope: ['Order', 'CancelOrder', 'CancelAll'], chosenScope: null })
    const named = (await tenant.request('POST', `/v1/wallets/${wallet.id}/sessions/rotate`, { families: ['Order', 'ModifyOrder', 'CancelAll'] })).json<Scoped>().session
    expect(named).toMatchObject({ aclScope: ['Order', 'ModifyOrder', 'CancelAll'], chosenScope: ['Order', 'ModifyOrder', 'CancelAll'] })
    const carried = (await tenant.request('POST', `/v1/wallets/${wallet.id}/sessions/rotate`, {})).json<Scoped>().session
    expect(carried.chosenScope).toEqual(['Order', 'ModifyOrder', 'CancelAll'])
    expect((await tenant.request('GET', `/v1/sessions/${carried.id}`)).json()).toMatchObject({ id: carried.id, chosenScope: ['Order', 'ModifyOrder', 'CancelAll'] })
    const listed = (await tenant.request('GET', `/v1/wallets/${wallet.id}/sessions`)).json<{ sessions: { id: string; chosenScope: string[] | null }[] }>().sessions
    expect(listed.find((s) => s.id === byDefault.id)?.chosenScope).toBeNull()
  })
})
