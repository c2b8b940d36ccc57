import { randomUUID } from 'node:crypto'
import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SessionKey } from '../../src/keys/SessionKey.js'
import { idempotencyKeys, orders, outbox, schedules, sessions } from '../../src/store/schema/index.js'
import { type ApiHarness, type Tenant, createApiHarness, eventually, tradingWallet } from './support/apiHarness.js'

let api: ApiHarness
let a: Tenant
let b: Tenant
let walletA: string
let walletB: string

beforeAll(async () => {
  api = await createApiHarness()
  a = await api.tenant()
  b = await api.tenant()
  walletA = (await tradingWallet(api, a)).wallet.id
  walletB = (await tradingWallet(api, b)).wallet.id
})
afterAll(async () => { await api?.close() })

const body = { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' }
const ordersOf = async (walletId: string) => api.h.db.select().from(orders).where(eq(orders.walletId, walletId))

describe('Idempotency-Key on POST', () => {
  it('replays the stored response (status and body) for the same key and body, creating nothing twice', async () => {
    const key = { 'idempotency-key': 'place-1' }
    const first = await a.request('POST', `/v1/wallets/${walletA}/orders`, body, key)
    expect(first.statusCode).toBe(201)
    expect(first.headers['idempotent-replayed']).toBeUndefined()
    const second = await a.request('POST', `/v1/wallets/${walletA}/orders`, body, key)
    expect(second.statusCode).toBe(201)
    expect(second.headers['idempotent-replayed']).toBe('true')
    expect(second.json()).toEqual(first.json())
    expect(await ordersOf(walletA)).toHaveLength(1)
  })

  it('refuses the same key with another body, or on another path, with 422', async () => {
    const key = { 'idempotency-key': 'place-2' }
    expect((await a.request('POST', `/v1/wallets/${walletA}/orders`, body, key)).statusCode).toBe(201)
    const otherBody = await a.request('POST', `/v1/wallets/${walletA}/orders`, { ...body, size: '0.2' }, key)
    expect(otherBody.statusCode).toBe(422)
    expect(otherBody.json()).toMatchObject({ error: { code: 'API.IDEMPOTENCY_KEY_REUSED', field: 'Idempotency-Key' } })
    const otherPath = await a.request('POST', '/v1/wallets', { generate: true }, key)
    expect(otherPath.statusCode).toBe(422)
    expect(await ordersOf(walletA)).toHaveLength(2)
  })

  it('keeps keys per tenant', async () => {
    const key = { 'idempotency-key': 'shared-name' }
    const fromA = await a.request('POST', `/v1/wallets/${walletA}/orders`, body, key)
    const fromB = await b.request('POST', `/v1/wallets/${walletB}/orders`, body, key)
    expect([fromA.statusCode, fromB.statusCode]).toEqual([201, 201])
    expect(fromB.headers['idempotent-replayed']).toBeUndefined()
    expect(fromB.json<{ walletId: string }>().walletId).toBe(walletB)
    const stored = await api.h.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, 'shared-name'))
    expect(stored.map((row) => row.scope).sort()).toEqual([a.id, b.id].sort())
  })

  it('replays a stored 4xx answer too', async () => {
    const key = { 'idempotency-key': 'off-tick' }
    const first = await a.request('POST', `/v1/wallets/${walletA}/orders`, { ...body, price: '1500.001' }, key)
    expect(first.statusCode).toBe(422)
    const second = await a.request('POST', `/v1/wallets/${walletA}/orders`, { ...body, price: '1500.001' }, key)
    expect(second.statusCode).toBe(422)
    expect(second.headers['idempotent-replayed']).toBe('true')
    expect(second.json()).toEqual(first.json())
  })

  it('does not claim a key for a request that fails validation', async () => {
    const key = { 'idempotency-key': 'fix-and-retry' }
    expect((await a.request('POST', `/v1/wallets/${walletA}/orders`, { ...body, side: 'long' }, key)).statusCode).toBe(400)
    expect((await a.request('POST', `/v1/wallets/${walletA}/orders`, body, key)).statusCode).toBe(201)
  })

  it('lets only one of two concurrent requests with one key act', async () => {
    const before = (await ordersOf(walletA)).length
    const key = { 'idempotency-key': 'race' }
    const responses = await Promise.all([1, 2, 3].map(() => a.request('POST', `/v1/wallets/${walletA}/orders`, body, key)))
    expect((await ordersOf(walletA)).length).toBe(before + 1)
    for (const response of responses) {
      if (response.statusCode === 409) expect(response.json()).toMatchObject({ error: { code: 'API.IDEMPOTENCY_IN_PROGRESS' } })
      else expect(response.statusCode).toBe(201)
    }
    expect(responses.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined)).toHaveLength(1)
  })

  it('does not store an answer that asks for a retry: the retry with the same key acts', async () => {
    // Another grant for the wallet is under way (a pending session row): the API answers 409 with Retry-After.
    const [current] = await api.h.db.select().from(sessions).where(and(eq(sessions.walletId, walletA), eq(sessions.status, 'active')))
    const pendingId = randomUUID()
    await api.h.db.insert(sessions).values({ ...current!, id: pendingId, status: 'pending', publicKey: SessionKey.generate().publicKey, activatedAt: null, delegatedAt: null, delegationHash: null, delegatedPayload: null })
    const key = { 'idempotency-key': 'grant-after-retry' }
    const busy = await a.request('POST', `/v1/wallets/${walletA}/sessions`, { lifetimeSeconds: 24 * 3600 }, key)
    expect(busy.statusCode, busy.body).toBe(409)
    expect(busy.headers['retry-after']).toBe('1')
    expect(busy.json()).toMatchObject({ error: { code: 'SESSION.GRANT_IN_PROGRESS', field: 'walletId', rule: 'must have no other session grant in progress; retry once it ends' } })
    await api.h.db.delete(sessions).where(eq(sessions.id, pendingId)) // that grant ended
    const retried = await a.request('POST', `/v1/wallets/${walletA}/sessions`, { lifetimeSeconds: 24 * 3600 }, key)
    expect(retried.statusCode, retried.body).toBe(201)
    expect(retried.headers['idempotent-replayed']).toBeUndefined()
    const replayed = await a.request('POST', `/v1/wallets/${walletA}/sessions`, { lifetimeSeconds: 24 * 3600 }, key)
    expect([replayed.statusCode, replayed.headers['idempotent-replayed']]).toEqual([201, 'true'])
    expect(replayed.json()).toEqual(retried.json())
  })

  it('never stores an API key: replaying a key creation answers 409', async () => {
    const key = { ...api.admin, 'idempotency-key': 'tenant-c' }
    const first = await api.app.inject({ method: 'POST', url: '/admin/tenants', headers: key, payload: { name: 'tenant-c' } })
    expect(first.statusCode).toBe(201)
    const secret = first.json<{ apiKey: { key: string } }>().apiKey.key
    const [stored] = await api.h.db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.scope, 'admin'), eq(idempotencyKeys.key, 'tenant-c')))
    expect(JSON.stringify(stored!.response)).not.toContain(secret)
    const replay = await api.app.inject({ method: 'POST', url: '/admin/tenants', headers: key, payload: { name: 'tenant-c' } })
    expect(replay.statusCode).toBe(409)
    expect(replay.json()).toMatchObject({ error: { code: 'API.IDEMPOTENCY_SECRET_SHOWN_ONCE' } })
    expect(replay.body).not.toContain(secret)
  })
})

describe('Idempotency-Key: the response cannot be stored', () => {
  // Storing the answer (onSend) fails as a statement can: cancelled by statement_timeout (SQLSTATE
  // 57014, raised here by a trigger), or the connection dropped. The request was answered and acted on.
  async function whileStoringFails(run: () => Promise<void>) {
    await api.h.db.execute(sql.raw(`
      create or replace function fail_idem_update() returns trigger language plpgsql as $$
      begin raise exception 'canceling statement due to statement timeout' using errcode = '57014'; end $$;
      create trigger fail_idem_update before update on idempotency_keys for each row execute function fail_idem_update();`))
    try {
      await run()
    } finally {
      await api.h.db.execute(sql.raw('drop trigger fail_idem_update on idempotency_keys; drop function fail_idem_update();'))
    }
  }

  it('a refusal is answered as it is, never with the failed statement and its parameters', async () => {
    await whileStoringFails(async () => {
      // Off the tick: refused 422, an answer the key stores.
      const response = await a.request('POST', `/v1/wallets/${walletA}/orders`, { ...body, price: '1500.001' }, { 'idempotency-key': 'store-fails-422' })
      expect(response.body).not.toMatch(/idempotency_keys|params:|Failed query/)
      expect(response.statusCode, response.body).toBe(422)
      expect(response.json()).toMatchObject({ error: { code: 'CORE.VALIDATION', field: 'price' } })
    })
  })

  it('an order placed is answered 201 with the order, not an error inviting a retry that could place it again', async () => {
    const before = (await ordersOf(walletA)).length
    await whileStoringFails(async () => {
      const response = await a.request('POST', `/v1/wallets/${walletA}/orders`, { ...body, price: '1501' }, { 'idempotency-key': 'store-fails-201' })
      expect(response.statusCode, response.body).toBe(201)
      expect(response.json()).toMatchObject({ price: '1501' })
    })
    expect(await ordersOf(walletA)).toHaveLength(before + 1)
  })

  it('a retry once the claim is stale answers the order placed, without placing it again; another body under the key is refused', async () => {
    const key = { 'idempotency-key': 'store-fails-retry' }
    const place = (price: string) => a.request('POST', `/v1/wallets/${walletA}/orders`, { ...body, price }, key)
    const before = (await ordersOf(walletA)).length
    let placed = ''
    await whileStoringFails(async () => {
      const response = await place('1502')
      expect(response.statusCode, response.body).toBe(201)
      placed = response.json<{ id: string }>().id
    })
    // The claim stays open while it may still be in progress.
    expect((await place('1502')).statusCode).toBe(409)
    await api.h.db.update(idempotencyKeys).set({ createdAt: sql`created_at - interval '6 minutes'` })
      .where(and(eq(idempotencyKeys.scope, a.id), eq(idempotencyKeys.key, 'store-fails-retry')))
    expect((await place('1503')).statusCode).toBe(422)
    // Answered as the first attempt was (201, the order it placed).
    const retried = await place('1502')
    expect(retried.statusCode, retried.body).toBe(201)
    expect(retried.json()).toMatchObject({ id: placed, price: '1502' })
    expect(await ordersOf(walletA)).toHaveLength(before + 1)
    const replayed = await place('1502')
    expect([replayed.statusCode, replayed.headers['idempotent-replayed']]).toEqual([201, 'true'])
  })

  // Modify, cancel, CancelAll and the kill switch queue their work under the key's action id, as a
  // placement does: a retry taking over a stale claim (the first attempt committed, its answer lost)
  // answers that work instead of queueing it again (a second CancelAll minutes later would cancel the
  // orders placed since; a second modify would re-apply an old price over a newer one).
  async function lostThenRetried(path: string, payload: Record<string, unknown>, key: string) {
    const send = () => a.request('POST', path, payload, { 'idempotency-key': key })
    let first: Awaited<ReturnType<typeof send>> | undefined
    await whileStoringFails(async () => { first = await send() })
    expect(first!.statusCode, first!.body).toBeLessThan(300)
    expect((await send()).statusCode).toBe(409)
    await api.h.db.update(idempotencyKeys).set({ createdAt: sql`created_at - interval '6 minutes'` })
      .where(and(eq(idempotencyKeys.scope, a.id), eq(idempotencyKeys.key, key)))
    const retried = await send()
    expect(retried.statusCode, retried.body).toBe(first!.statusCode)
    expect(retried.headers['idempotent-replayed']).toBeUndefined()
    return { first: first!.json<Record<string, unknown>>(), retried: retried.json<Record<string, unknown>>() }
  }
  const workOf = async (walletId: string, kind: typeof outbox.$inferSelect['kind']) => (await api.h.db.select().from(outbox).where(and(eq(outbox.walletId, walletId), eq(outbox.kind, kind)))).map((row) => row.id)

  it('a modify and a cancel retried once the claim is stale answer the work queued, without queueing it again', async () => {
    const placed = await a.request('POST', `/v1/wallets/${walletA}/orders`, { ...body, price: '1400' })
    expect(placed.statusCode, placed.body).toBe(201)
    const orderId = placed.json<{ id: string }>().id
    const modified = await lostThenRetried(`/v1/orders/${orderId}/modify`, { price: '1401', size: '0.1' }, 'modify-lost')
    expect(modified.retried.outboxId).toBe(modified.first.outboxId)
    expect(await workOf(walletA, 'ModifyOrder')).toEqual([modified.first.outboxId])
    const cancelled = await lostThenRetried(`/v1/orders/${orderId}/cancel`, {}, 'cancel-lost')
    expect(cancelled.retried.outboxId).toBe(cancelled.first.outboxId)
    expect(await workOf(walletA, 'CancelOrder')).toEqual([cancelled.first.outboxId])
  })

  // A cancel asked while another cancel of the order is still on its way answers that one (its
  // outboxId), queueing nothing under the key's action id. Retried once that cancel has cancelled the
  // order, it must still answer it (the cancel asked is done), not refuse the order as not open.
  it('a cancel that joined one on its way, retried once the claim is stale and the order cancelled, answers the cancel it joined', async () => {
    const wallet = (await tradingWallet(api, a)).wallet.id
    const placed = await a.request('POST', `/v1/wallets/${wallet}/orders`, { ...body, price: '1402' })
    expect(placed.statusCode, placed.body).toBe(201)
    const orderId = placed.json<{ id: string }>().id
    const stateOf = async () => (await a.request('GET', `/v1/orders/${orderId}`)).json<{ state: string }>().state
    await eventually(async () => (await stateOf()) === 'open', 20_000)
    const key = 'cancel-joined-lost'
    const send = () => a.request('POST', `/v1/orders/${orderId}/cancel`, {}, { 'idempotency-key': key })
    let joined = ''
    // The operator answers 503 for now: the first cancel stays on its way, retried.
    api.h.sandbox.setFaults({ errorRate: 1 })
    try {
      const pending = await a.request('POST', `/v1/orders/${orderId}/cancel`, {})
      expect(pending.statusCode, pending.body).toBe(202)
      joined = pending.json<{ outboxId: string }>().outboxId
      await whileStoringFails(async () => {
        const first = await send()
        expect([first.statusCode, first.json<{ outboxId: string }>().outboxId]).toEqual([202, joined])
      })
    } finally {
      api.h.sandbox.setFaults({ errorRate: 0 })
    }
    await eventually(async () => (await stateOf()) === 'cancelled', 20_000)
    await api.h.db.update(idempotencyKeys).set({ createdAt: sql`created_at - interval '6 minutes'` })
      .where(and(eq(idempotencyKeys.scope, a.id), eq(idempotencyKeys.key, key)))
    const retried = await send()
    expect(retried.statusCode, retried.body).toBe(202)
    expect(retried.json()).toEqual({ outboxId: joined, status: 'queued' })
    expect(await workOf(wallet, 'CancelOrder')).toEqual([joined])
    // A new cancel of the cancelled order, under another key or none, is refused as ever.
    for (const extra of [{ 'idempotency-key': 'cancel-joined-new' }, {}] as Record<string, string>[]) {
      const again = await a.request('POST', `/v1/orders/${orderId}/cancel`, {}, extra)
      expect([again.statusCode, again.json<{ error: { code: string } }>().error.code]).toEqual([409, 'ORDER.NOT_OPEN'])
    }
  }, 60_000)

  it('a CancelAll retried once the claim is stale answers the CancelAll queued, without queueing another', async () => {
    const before = await workOf(walletA, 'CancelAll')
    const { first, retried } = await lostThenRetried(`/v1/wallets/${walletA}/cancel-all`, { market: 'ETH-USD' }, 'cancel-all-lost')
    expect(retried.outboxId).toBe(first.outboxId)
    expect((await workOf(walletA, 'CancelAll')).filter((id) => !before.includes(id))).toEqual([first.outboxId])
  })

  it('a halt retried once the claim is stale answers the halt, without queueing another CancelAll', async () => {
    const wallet = (await tradingWallet(api, a)).wallet.id
    const { first, retried } = await lostThenRetried(`/v1/wallets/${wallet}/halt`, { reason: 'drill' }, 'halt-lost')
    expect(retried.cancelAllOutboxId).toBe(first.cancelAllOutboxId)
    expect(retried.cancelledLocally).toBe(first.cancelledLocally)
    expect(await workOf(wallet, 'CancelAll')).toEqual([first.cancelAllOutboxId])
  })

  it('a schedule created, retried once the claim is stale, answers the schedule created instead of refusing a second one', async () => {
    const wallet = (await tradingWallet(api, a)).wallet.id
    const spec = { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 * * * *', timeZone: 'Europe/Paris', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 }
    const { first, retried } = await lostThenRetried(`/v1/wallets/${wallet}/schedules`, spec, 'schedule-lost')
    expect(retried.id).toBe(first.id)
    expect((await api.h.db.select().from(schedules).where(eq(schedules.walletId, wallet))).map((row) => row.id)).toEqual([first.id])
  })

  it('an expired key is a new request: the same body places a new order', async () => {
    const key = { 'idempotency-key': 'expires' }
    const first = await a.request('POST', `/v1/wallets/${walletA}/orders`, body, key)
    expect(first.statusCode).toBe(201)
    await api.h.db.update(idempotencyKeys).set({ expiresAt: sql`now() - interval '1 second'` })
      .where(and(eq(idempotencyKeys.scope, a.id), eq(idempotencyKeys.key, 'expires')))
    const second = await a.request('POST', `/v1/wallets/${walletA}/orders`, body, key)
    expect(second.statusCode, second.body).toBe(201)
    expect(second.headers['idempotent-replayed']).toBeUndefined()
    expect(second.json<{ id: string }>().id).not.toBe(first.json<{ id: string }>().id)
  })
})
