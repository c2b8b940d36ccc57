import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorHandler } from '../../src/api/errorHandler.js'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { placeLimitOrders } from '../../src/runtime/intake/placeLimitOrders.js'
import { requestCancelAll } from '../../src/runtime/intake/requestOrderChange.js'
import { setPolicy } from '../../src/runtime/policy/setPolicy.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { compromiseWallet } from '../../src/runtime/sessions/compromiseWallet.js'
import { grantSession } from '../../src/runtime/sessions/grantSession.js'
import { revokeAtOperator } from '../../src/runtime/sessions/revokeAtOperator.js'
import { rotateSession } from '../../src/runtime/sessions/rotateSession.js'
import { auditLog, intents, outbox, policies, schedules, sessions, wallets } from '../../src/store/schema/index.js'
import { type ApiHarness, type Tenant, createApiHarness, eventually, tradingWallet } from './support/apiHarness.js'

let api: ApiHarness
let a: Tenant
let b: Tenant
let wallet: { id: string; address: string }
let sessionId: string
let orderId: string
let scheduleId: string
let placementId: string

beforeAll(async () => {
  api = await createApiHarness()
  a = await api.tenant()
  b = await api.tenant()
  const made = await tradingWallet(api, a)
  wallet = made.wallet
  sessionId = made.session.id
  orderId = (await a.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' })).json<{ id: string }>().id
  await eventually(async () => (await a.request('GET', `/v1/orders/${orderId}`)).json<{ state: string }>().state === 'open')
  placementId = (await api.h.db.select().from(outbox).where(eq(outbox.orderId, orderId)))[0]!.id
  const spec = { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 * * * *', timeZone: 'UTC', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 }
  scheduleId = (await a.request('POST', `/v1/wallets/${wallet.id}/schedules`, spec)).json<{ id: string }>().id
})
afterAll(async () => { await api?.close() })

describe("tenant B cannot see or touch tenant A's resources (404, never 403)", () => {
  const attempts: [string, 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', () => string, unknown, string][] = [
    ['get the wallet', 'GET', () => `/v1/wallets/${wallet.id}`, undefined, 'walletId'],
    ['grant a session on it', 'POST', () => `/v1/wallets/${wallet.id}/sessions`, {}, 'walletId'],
    ['rotate its session', 'POST', () => `/v1/wallets/${wallet.id}/sessions/rotate`, {}, 'walletId'],
    ['list its sessions', 'GET', () => `/v1/wallets/${wallet.id}/sessions`, undefined, 'walletId'],
    ['read the session', 'GET', () => `/v1/sessions/${sessionId}`, undefined, 'sessionId'],
    ['revoke the session', 'POST', () => `/v1/sessions/${sessionId}/revoke`, {}, 'sessionId'],
    ['place an order on the wallet', 'POST', () => `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' }, 'walletId'],
    ['list the wallet orders', 'GET', () => `/v1/orders?walletId=${wallet.id}`, undefined, 'walletId'],
    ['read the order', 'GET', () => `/v1/orders/${orderId}`, undefined, 'orderId'],
    ['modify the order', 'POST', () => `/v1/orders/${orderId}/modify`, { price: '1600', size: '0.2' }, 'orderId'],
    ['cancel the order', 'POST', () => `/v1/orders/${orderId}/cancel`, {}, 'orderId'],
    ['read the work queued for it', 'GET', () => `/v1/work/${placementId}`, undefined, 'outboxId'],
    ['CancelAll on the wallet', 'POST', () => `/v1/wallets/${wallet.id}/cancel-all`, {}, 'walletId'],
    ['halt the wallet', 'POST', () => `/v1/wallets/${wallet.id}/halt`, { reason: 'hostile' }, 'walletId'],
    ['declare the wallet compromised', 'POST', () => `/v1/wallets/${wallet.id}/compromise`, { reason: 'hostile' }, 'walletId'],
    ['resume the wallet', 'POST', () => `/v1/wallets/${wallet.id}/resume`, {}, 'walletId'],
    ['set its policy', 'PUT', () => `/v1/wallets/${wallet.id}/policy`, { rules: { maxOpenOrders: 0 } }, 'walletId'],
    ['read its policy', 'GET', () => `/v1/wallets/${wallet.id}/policy`, undefined, 'walletId'],
    ['create a schedule on it', 'POST', () => `/v1/wallets/${wallet.id}/schedules`, { targets: { ETH: '1' }, cron: '0 * * * *', timeZone: 'UTC', toleranceBand: '0', minTradeNotional: '1', limitOffsetBps: 0 }, 'walletId'],
    ['read the schedule', 'GET', () => `/v1/schedules/${scheduleId}`, undefined, 'scheduleId'],
    ['edit the schedule', 'PATCH', () => `/v1/schedules/${scheduleId}`, { cron: '1 * * * *' }, 'scheduleId'],
    ['pause the schedule', 'POST', () => `/v1/schedules/${scheduleId}/pause`, {}, 'scheduleId'],
    ['resume the schedule', 'POST', () => `/v1/schedules/${scheduleId}/resume`, {}, 'scheduleId'],
    ['delete the schedule', 'DELETE', () => `/v1/schedules/${scheduleId}`, undefined, 'scheduleId'],
    ['list the schedule runs', 'GET', () => `/v1/schedules/${scheduleId}/runs`, undefined, 'scheduleId'],
    ['list the wallet schedules', 'GET', () => `/v1/schedules?walletId=${wallet.id}`, undefined, 'walletId'],
    ['read its audit trail', 'GET', () => `/v1/wallets/${wallet.id}/audit`, undefined, 'walletId'],
  ]

  it.each(attempts)('B cannot %s', async (_name, method, url, body, field) => {
    const response = await b.request(method, url(), body)
    expect(response.statusCode, response.body).toBe(404)
    expect(response.json()).toMatchObject({ error: { code: 'API.NOT_FOUND', field } })
  })

  it("left A's resources untouched and A still sees them", async () => {
    expect((await a.request('GET', `/v1/wallets/${wallet.id}`)).json()).toMatchObject({ status: 'active' })
    expect((await a.request('GET', `/v1/orders/${orderId}`)).json()).toMatchObject({ state: 'open', price: '1500' })
    expect((await a.request('GET', `/v1/work/${placementId}`)).json()).toMatchObject({ kind: 'Order', status: 'done', accepted: true })
    expect((await a.request('GET', `/v1/schedules/${scheduleId}`)).json()).toMatchObject({ status: 'active', version: 1 })
    const [session] = await api.h.db.select().from(sessions).where(eq(sessions.id, sessionId))
    expect(session!.status).toBe('active')
    const queued = await api.h.db.select().from(outbox).where(eq(outbox.walletId, wallet.id))
    expect(queued.map((row) => row.kind)).toEqual(['Order'])
  })

  it("B's lists never include A's resources", async () => {
    expect((await b.request('GET', '/v1/wallets')).json()).toEqual({ wallets: [] })
    expect((await b.request('GET', '/v1/orders?state=all')).json()).toEqual({ orders: [] })
    expect((await b.request('GET', '/v1/schedules')).json()).toEqual({ schedules: [] })
    const status = (await b.request('GET', '/v1/status')).json<{ wallets: unknown[]; sessions: unknown[]; workingOrders: unknown[]; schedules: unknown[] }>()
    expect([status.wallets, status.sessions, status.workingOrders, status.schedules]).toEqual([[], [], [], []])
  })

  it("B cannot register A's wallet address as its own", async () => {
    const response = await b.request('POST', '/v1/wallets', { address: wallet.address })
    expect(response.statusCode).toBe(409)
    expect(response.json()).toMatchObject({ error: { code: 'WALLET.UNAVAILABLE', field: 'address' } })
  })
})

// The routes look the wallet up by tenant first; the wallet may then be another tenant's, or
// retired (a takeover by proof of ownership, docs/privy.md), before the write. The writes that trade (a
// placement, a schedule) and the ones that stop it or set its limits (a halt, a compromise, a resume,
// a CancelAll, a policy) and the sessions' (a grant, a rotation, a revocation) check the tenant again
// in their own transaction, under the wallet's lock.
describe('the writes check the tenant in their own transaction', () => {
  // What the API answers for an error a write threw, through its error handler.
  const answered = async (attempt: () => Promise<unknown>) => {
    const app = Fastify()
    app.setErrorHandler(errorHandler)
    app.post('/', async () => { await attempt(); return {} })
    const response = await app.inject({ method: 'POST', url: '/' })
    await app.close()
    return { status: response.statusCode, body: response.json() as unknown }
  }
  // Another tenant's wallet must look exactly like a missing one: the routes' own 404.
  const unknown = async (resource: 'wallets' | 'sessions') => {
    const response = await b.request('GET', `/v1/${resource}/${randomUUID()}`)
    expect(response.statusCode).toBe(404)
    return { status: 404, body: response.json() as unknown }
  }

  it("a placement asked for tenant B on A's wallet is refused and stores nothing", async () => {
    const before = await api.h.db.select().from(intents).where(eq(intents.walletId, wallet.id))
    const [outcome] = await placeLimitOrders(api.h.db, api.deps.markets, [{ input: { walletId: wallet.id, tenantId: b.id, market: 'ETH-USD', side: 'buy', price: '1400', size: '0.1' }, now: new Date() }])
    expect(outcome!.ok).toBe(false)
    expect(await answered(async () => { if (!outcome!.ok) throw outcome!.error })).toEqual(await unknown('wallets'))
    expect(await api.h.db.select().from(intents).where(eq(intents.walletId, wallet.id))).toHaveLength(before.length)
  })

  it("a schedule asked for tenant B on A's wallet is refused and stores nothing", async () => {
    await a.request('DELETE', `/v1/schedules/${scheduleId}`)
    const spec = { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 * * * *', timeZone: 'UTC', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 }
    const ctx = { db: api.h.db, queue: api.deps.controlQueue, markets: api.deps.markets }
    expect(await answered(() => createSchedule(ctx, { walletId: wallet.id, tenantId: b.id, ...spec }))).toEqual(await unknown('wallets'))
    expect((await api.h.db.select().from(schedules).where(eq(schedules.walletId, wallet.id))).map((row) => row.status)).toEqual(['deleted'])
  })

  it("a halt, compromise, resume, CancelAll or policy asked for tenant B on A's wallet is refused and stores nothing", async () => {
    const { db } = api.h
    const stored = async () => ({
      wallet: (await db.select({ status: wallets.status, haltedReason: wallets.haltedReason }).from(wallets).where(eq(wallets.id, wallet.id)))[0],
      sessions: (await db.select({ status: sessions.status }).from(sessions).where(eq(sessions.walletId, wallet.id))).map((row) => row.status),
      outbox: (await db.select({ id: outbox.id }).from(outbox).where(eq(outbox.walletId, wallet.id))).length,
      policies: (await db.select({ id: policies.id }).from(policies).where(eq(policies.walletId, wallet.id))).length,
      audit: (await db.select({ id: auditLog.id }).from(auditLog).where(eq(auditLog.walletId, wallet.id))).length,
    })
    const before = await stored()
    const attempts: [string, () => Promise<unknown>][] = [
      ['halt', () => haltWallet(db, { walletId: wallet.id, tenantId: b.id, reason: 'hostile', actor: 'api' })],
      ['compromise', () => compromiseWallet(api.deps.runtime, api.deps.keyring, { walletId: wallet.id, tenantId: b.id, reason: 'hostile', actor: 'api' })],
      ['resume', () => resumeWallet(db, { walletId: wallet.id, tenantId: b.id, actor: 'api' })],
      ['CancelAll', () => requestCancelAll(db, { walletId: wallet.id, tenantId: b.id, market: '' })],
      ['policy', () => setPolicy(db, { walletId: wallet.id, tenantId: b.id, rules: { maxOpenOrders: 0 }, actor: 'api' })],
    ]
    for (const [name, attempt] of attempts) {
      expect(await answered(attempt), name).toEqual(await unknown('wallets'))
    }
    expect(await stored()).toEqual(before)
    expect(before.wallet).toEqual({ status: 'active', haltedReason: null })
  })

  it("a session grant, rotation or revocation asked for tenant B on A's wallet is refused and stores nothing", async () => {
    const { db } = api.h
    const stored = async () => ({
      sessions: (await db.select({ id: sessions.id, status: sessions.status, revokedAt: sessions.revokedAt }).from(sessions).where(eq(sessions.walletId, wallet.id))),
      wallet: (await db.select({ status: wallets.status }).from(wallets).where(eq(wallets.id, wallet.id)))[0],
      audit: (await db.select({ id: auditLog.id }).from(auditLog).where(eq(auditLog.walletId, wallet.id))).length,
    })
    const before = await stored()
    const [walletRow] = await db.select().from(wallets).where(eq(wallets.id, wallet.id))
    const walletSigner = api.deps.walletSigners.signerFor(walletRow!)!
    const [session] = await db.select().from(sessions).where(eq(sessions.id, sessionId))
    const { runtime, keyring } = api.deps
    const attempts: [string, () => Promise<unknown>, 'wallets' | 'sessions'][] = [
      ['grant', () => grantSession({ db, keyring, domain: runtime.domain, walletSigner, walletId: wallet.id, tenantId: b.id, families: ['Order', 'CancelOrder'], lifetimeSeconds: 86_400, nowMs: runtime.operatorNow() }), 'wallets'],
      ['rotate', () => rotateSession({ deps: runtime, keyring, walletSigner, walletId: wallet.id, tenantId: b.id, reason: 'onDemand', lifetimeSeconds: 86_400 }), 'wallets'],
      ['revoke', () => revokeAtOperator(runtime, keyring, session!, 'hostile', walletSigner, b.id), 'sessions'],
    ]
    for (const [name, attempt, resource] of attempts) {
      expect(await answered(attempt), name).toEqual(await unknown(resource))
    }
    expect(await stored()).toEqual(before)
    expect(before.sessions.find((row) => row.id === sessionId)).toMatchObject({ status: 'active', revokedAt: null })
    // Nor revoked at the operator.
    expect(api.h.sandbox.state.delegations.byDelegationHash(session!.delegationHash!)?.revoked).toBe(false)
  })

  // A wallet B registered without proof is retired when the address's owner proves ownership for
  // another tenant (docs/privy.md); B's write looked the wallet up just before that.
  it("a placement, schedule, halt, resume, CancelAll or policy asked for tenant B on its own retired wallet is refused and stores nothing", async () => {
    const { db } = api.h
    const address = `0x${randomUUID().replaceAll('-', '')}${'0'.repeat(8)}`
    const retired = (await b.request('POST', '/v1/wallets', { address })).json<{ id: string }>().id
    await db.update(wallets).set({ retiredAt: new Date() }).where(eq(wallets.id, retired))
    const stored = async () => ({
      wallet: (await db.select({ status: wallets.status, haltedReason: wallets.haltedReason }).from(wallets).where(eq(wallets.id, retired)))[0],
      intents: (await db.select({ id: intents.id }).from(intents).where(eq(intents.walletId, retired))).length,
      schedules: (await db.select({ id: schedules.id }).from(schedules).where(eq(schedules.walletId, retired))).length,
      outbox: (await db.select({ id: outbox.id }).from(outbox).where(eq(outbox.walletId, retired))).length,
      policies: (await db.select({ id: policies.id }).from(policies).where(eq(policies.walletId, retired))).length,
      audit: (await db.select({ id: auditLog.id }).from(auditLog).where(eq(auditLog.walletId, retired))).length,
    })
    const before = await stored()
    const spec = { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 * * * *', timeZone: 'UTC', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 }
    const attempts: [string, () => Promise<unknown>][] = [
      ['placement', async () => {
        const [outcome] = await placeLimitOrders(db, api.deps.markets, [{ input: { walletId: retired, tenantId: b.id, market: 'ETH-USD', side: 'buy', price: '1400', size: '0.1' }, now: new Date() }])
        if (!outcome!.ok) throw outcome!.error
      }],
      ['schedule', () => createSchedule({ db, queue: api.deps.controlQueue, markets: api.deps.markets }, { walletId: retired, tenantId: b.id, ...spec })],
      ['halt', () => haltWallet(db, { walletId: retired, tenantId: b.id, reason: 'again', actor: 'api' })],
      ['resume', () => resumeWallet(db, { walletId: retired, tenantId: b.id, actor: 'api' })],
      ['CancelAll', () => requestCancelAll(db, { walletId: retired, tenantId: b.id, market: '' })],
      ['policy', () => setPolicy(db, { walletId: retired, tenantId: b.id, rules: { maxOpenOrders: 0 }, actor: 'api' })],
    ]
    for (const [name, attempt] of attempts) {
      expect(await answered(attempt), name).toEqual(await unknown('wallets'))
    }
    expect(await stored()).toEqual(before)
  })
})

describe('authentication', () => {
  it('refuses requests without a valid tenant API key', async () => {
    const none = await api.app.inject({ method: 'GET', url: '/v1/wallets' })
    expect(none.statusCode).toBe(401)
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/)
    const forged = a.key.slice(0, -4) + (a.key.endsWith('AAAA') ? 'BBBB' : 'AAAA')
    for (const authorization of [`Bearer ${forged}`, 'Bearer dpk_nope', `Basic ${Buffer.from(`x:${a.key}`).toString('base64')}`, `Bearer ${api.adminToken}`]) {
      const response = await api.app.inject({ method: 'GET', url: '/v1/wallets', headers: { authorization } })
      expect(response.statusCode, authorization.slice(0, 12)).toBe(401)
      expect(response.json()).toMatchObject({ error: { code: 'API.UNAUTHORIZED' } })
    }
  })

  it('refuses admin endpoints to tenant keys and to a wrong token', async () => {
    for (const authorization of [`Bearer ${a.key}`, 'Bearer wrong-token-wrong-token', '']) {
      const response = await api.app.inject({ method: 'GET', url: '/admin/tenants', headers: authorization ? { authorization } : {} })
      expect(response.statusCode).toBe(401)
    }
    const basic = await api.app.inject({ method: 'GET', url: '/admin/tenants', headers: { authorization: `Basic ${Buffer.from(`admin:${api.adminToken}`).toString('base64')}` } })
    expect(basic.statusCode).toBe(200)
  })
})
