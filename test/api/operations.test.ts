import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi } from '../../src/api/buildApi.js'
import { alertCodes } from '../../src/core/alerts/alertCodes.js'
import { operatorErrorCodes } from '../../src/core/errors/operatorErrorCodes.js'
import { repairActions } from '../../src/core/orders/repairActions.js'
import { createAlertSink } from '../../src/runtime/createAlertSink.js'
import { audit } from '../../src/store/repositories/audit.js'
import { orders, requests, sessions } from '../../src/store/schema/index.js'
import { type ApiHarness, type Tenant, createApiHarness, eventually, grantThroughApi, tradingWallet } from './support/apiHarness.js'

let api: ApiHarness
let tenant: Tenant
let acceptedOrderId: string
let sessionId: string

beforeAll(async () => {
  api = await createApiHarness()
  tenant = await api.tenant()
  const { wallet, session } = await tradingWallet(api, tenant)
  sessionId = session.id
  acceptedOrderId = (await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' })).json<{ id: string }>().id
  await eventually(async () => (await tenant.request('GET', `/v1/orders/${acceptedOrderId}`)).json<{ state: string }>().state === 'open')
})
afterAll(async () => { await api?.close() })

/** The value of one series line, e.g. `deputy_orders{state="open"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('/metrics', () => {
  it('exposes queue depths, submit latency, operator errors, orders, expiring sessions, reconciliation repairs and alerts', async () => {
    // An unfunded wallet: the operator refuses its order (InsufficientBalance).
    const poor = (await tenant.request('POST', '/v1/wallets', { generate: true })).json<{ id: string }>()
    const granted = await grantThroughApi(tenant, poor.id, { lifetimeSeconds: 24 * 3600 })
    expect(granted.statusCode).toBe(201)
    const refused = (await tenant.request('POST', `/v1/wallets/${poor.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '1' })).json<{ id: string }>()
    await eventually(async () => (await api.h.db.select().from(orders).where(eq(orders.id, refused.id)))[0]!.state === 'rejected')
    await audit(api.h.db, { actor: 'reconciler', action: 'orphan.adopt', details: { test: true } })
    for (const code of ['KEY_INTEGRITY', 'SESSION_EXPIRING', 'SESSION_EXPIRING']) await audit(api.h.db, { actor: 'worker', action: `alert.${code}`, details: {} })
    // A grant needs an hour left; let this session's clock run down to 30 minutes.
    const soon = Math.floor(Date.now() / 1000) + 1800
    await api.h.db.update(sessions).set({ expiry: new Date(soon * 1000), expiryUnix: soon }).where(eq(sessions.id, granted.json<{ session: { id: string } }>().session.id))

    const response = await api.app.inject({ method: 'GET', url: '/metrics' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^text\/plain/)
    const text = response.body
    expect(sample(text, 'deputy_queue_jobs{queue="submit",state="completed"}')).toBeGreaterThanOrEqual(2)
    expect(sample(text, 'deputy_queue_jobs{queue="control",state="failed"}')).toBe(0)
    expect(sample(text, 'deputy_submit_latency_seconds_count')).toBe(1)
    expect(sample(text, 'deputy_submit_latency_seconds_bucket{le="+Inf"}')).toBe(1)
    expect(sample(text, 'deputy_operator_errors{code="InsufficientBalance"}')).toBe(1)
    expect(sample(text, 'deputy_orders{state="open"}')).toBe(1)
    expect(sample(text, 'deputy_orders{state="unknown"}')).toBe(0)
    // Settled orders are not counted: the series would read every order ever placed.
    expect(sample(text, 'deputy_orders{state="rejected"}')).toBeUndefined()
    expect(sample(text, 'deputy_orders{state="filled"}')).toBeUndefined()
    expect(sample(text, 'deputy_sessions_expiring{within="1h"}')).toBe(1)
    expect(sample(text, 'deputy_sessions_expiring{within="24h"}')).toBe(2)
    expect(sample(text, 'deputy_reconciliation_repairs{action="orphan.adopt"}')).toBe(1)
    expect(sample(text, 'deputy_alerts{code="KEY_INTEGRITY"}')).toBe(1)
    expect(sample(text, 'deputy_alerts{code="SESSION_EXPIRING"}')).toBe(2)

    // Each receipt is observed once, however often Prometheus scrapes.
    const again = (await api.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(sample(again, 'deputy_submit_latency_seconds_count')).toBe(1)
  })
})

describe('/metrics deputy_alerts', () => {
  it('reads 0 for every alert code not raised yet, so that the first one raised is an increase a rule sees', async () => {
    // A series first scraped at 1 is no increase to Prometheus (increase(), changes()): a rule on
    // deputy_alerts would miss the first alert of a code, such as the deployment's first KEY_INTEGRITY.
    const before = (await api.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(sample(before, 'deputy_alerts{code="WORK_STALLED"}')).toBe(0)
    expect(sample(before, 'deputy_alerts{code="SESSION_UNREVOKED"}')).toBe(0)
    for (const code of alertCodes) expect(sample(before, `deputy_alerts{code="${code}"}`), code).toBeGreaterThanOrEqual(0)

    const wallet = (await tenant.request('POST', '/v1/wallets', { generate: true })).json<{ id: string }>()
    const sink = createAlertSink({ log: api.h.log, db: api.h.db })
    sink.raise({ walletId: wallet.id, code: 'WORK_STALLED', message: 'Order has not gone out after every retry; it keeps being retried', details: { outboxId: 'x' } })
    await sink.settled()
    const after = (await api.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(sample(after, 'deputy_alerts{code="WORK_STALLED"}')).toBe(1)
    expect(sample(after, 'deputy_alerts{code="SESSION_UNREVOKED"}')).toBe(0)
  })
})

describe('/metrics deputy_operator_errors and deputy_reconciliation_repairs', () => {
  it('read 0 for every operator error code and every repair not seen yet, so that the first one is an increase a rule sees', async () => {
    // A series first scraped at 1 is no increase to Prometheus: a rule on either would miss the
    // deployment's first SignerMismatch, or the reconciler's first order placed again.
    const before = (await api.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(sample(before, 'deputy_operator_errors{code="SignerMismatch"}')).toBe(0)
    expect(sample(before, 'deputy_operator_errors{code="Transport"}')).toBe(0)
    expect(sample(before, 'deputy_reconciliation_repairs{action="order.resubmitted"}')).toBe(0)
    expect(sample(before, 'deputy_reconciliation_repairs{action="fill.backfilled"}')).toBe(0)
    for (const code of operatorErrorCodes) expect(sample(before, `deputy_operator_errors{code="${code}"}`), code).toBeGreaterThanOrEqual(0)
    for (const action of repairActions) expect(sample(before, `deputy_reconciliation_repairs{action="${action}"}`), action).toBeGreaterThanOrEqual(0)
    // Seen once, counted as before.
    await audit(api.h.db, { actor: 'reconciler', action: 'order.resubmitted', details: { test: true } })
    const after = (await api.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(sample(after, 'deputy_reconciliation_repairs{action="order.resubmitted"}')).toBe(1)
    expect(sample(after, 'deputy_reconciliation_repairs{action="fill.backfilled"}')).toBe(0)
  })

  it('does not count a request whose lost answer (Transport) was followed by its acceptance', async () => {
    // As a resend answered duplicate leaves it: accepted, the lost first answer kept as its history.
    await api.h.db.update(requests).set({ errorCode: 'Transport', errorMessage: 'socket hang up' }).where(eq(requests.orderId, acceptedOrderId))
    const [row] = await api.h.db.select({ status: requests.status }).from(requests).where(eq(requests.orderId, acceptedOrderId))
    expect(row?.status).toBe('accepted')
    const scraped = (await api.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(sample(scraped, 'deputy_operator_errors{code="Transport"}')).toBe(0)
  })
})

describe('/metrics with METRICS_TOKEN set', () => {
  it('answers 401 without the token as Bearer, and the metrics with it', async () => {
    const metricsToken = 'scrape-token-0123456789'
    const app = await buildApi({ ...api.deps, metricsToken })
    try {
      for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${Buffer.from(`x:${metricsToken}`).toString('base64')}`, `Bearer ${api.adminToken}`]) {
        const refused = await app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} })
        expect(refused.statusCode).toBe(401)
        expect(refused.headers['www-authenticate']).toBe('Bearer realm="deputy-metrics"')
        expect(refused.body).not.toContain('deputy_orders')
      }
      const scraped = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${metricsToken}` } })
      expect(scraped.statusCode).toBe(200)
      expect(sample(scraped.body, 'deputy_orders{state="open"}')).toBeGreaterThanOrEqual(1)
    } finally {
      await app.close()
    }
  })
})

describe('OpenAPI', () => {
  it('serves the document generated from the zod schemas, and the docs page', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/openapi.json' })
    expect(response.statusCode).toBe(200)
    const doc = response.json<{ openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown>; required: string[] } }> } }>>; components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> } }>()
    expect(doc.openapi).toBe('3.1.0')
    const place = doc.paths['/v1/wallets/{walletId}/orders']!.post!
    const schema = place.requestBody!.content['application/json']!.schema
    expect(Object.keys(schema.properties).sort()).toEqual(['clientRef', 'goodTill', 'market', 'price', 'side', 'size', 'timeInForce'])
    expect(schema.required.sort()).toEqual(['market', 'price', 'side', 'size'])
    for (const path of ['/v1/wallets', '/v1/sessions/{sessionId}/revoke', '/v1/orders/{orderId}', '/v1/schedules/{scheduleId}/runs', '/v1/wallets/{walletId}/halt', '/v1/wallets/{walletId}/policy', '/healthz', '/readyz', '/admin/tenants']) {
      expect(doc.paths, path).toHaveProperty([path])
    }
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/admin/queues') || p.startsWith('/docs'))).toBe(false)
    expect(doc.components.schemas).toHaveProperty('Order')
    expect(doc.components.schemas).toHaveProperty('Error')
    expect(doc.components.securitySchemes).toHaveProperty('apiKey')

    const docs = await api.app.inject({ method: 'GET', url: '/docs/' })
    expect(docs.statusCode).toBe(200)
    expect(docs.body).toMatch(/swagger/i)
  })
})

describe('Bull Board', () => {
  it('requires the admin token', async () => {
    const anonymous = await api.app.inject({ method: 'GET', url: '/admin/queues' })
    expect(anonymous.statusCode).toBe(401)
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic/)
    const tenantKey = await api.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: tenant.headers })
    expect(tenantKey.statusCode).toBe(401)
    const page = await api.app.inject({ method: 'GET', url: '/admin/queues', headers: { authorization: `Basic ${Buffer.from(`admin:${api.adminToken}`).toString('base64')}` } })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/html/)
  })

  it('shows the submit queue read-only and refuses a manual retry of a submission', async () => {
    const queues = await api.app.inject({ method: 'GET', url: '/admin/queues/api/queues?activeQueue=submit&status=completed', headers: api.admin })
    expect(queues.statusCode).toBe(200)
    const listed = queues.json<{ queues: { name: string; readOnlyMode: boolean }[] }>().queues
    expect(listed.find((q) => q.name === 'submit')).toMatchObject({ readOnlyMode: true })
    expect(listed.find((q) => q.name === 'control')).toMatchObject({ readOnlyMode: false })

    const [job] = await api.worker.submitQueue.getJobs(['completed'], 0, 0)
    expect(job?.id).toBeTruthy()
    const retry = await api.app.inject({ method: 'PUT', url: `/admin/queues/api/queues/submit/${job!.id}/retry`, headers: api.admin })
    expect(retry.statusCode).toBe(405)
    expect(retry.json()).toMatchObject({ error: { key: 'ERRORS.QUEUE_READ_ONLY' } })
    const retryAll = await api.app.inject({ method: 'PUT', url: '/admin/queues/api/queues/submit/retry/completed', headers: api.admin })
    expect(retryAll.statusCode).toBe(405)
    expect(await job!.getState()).toBe('completed')
    const anonymousRetry = await api.app.inject({ method: 'PUT', url: `/admin/queues/api/queues/submit/${job!.id}/retry` })
    expect(anonymousRetry.statusCode).toBe(401)
  })
})

describe('when the operator is down', () => {
  it('/readyz stays ready and names the operator, the kill switch is still taken, and a failed POST releases its Idempotency-Key', async () => {
    await api.h.sandbox.close()
    // The operator is every replica's dependency: were it part of readiness, an outage would take every
    // API replica out of its load balancer, and users could neither halt a wallet nor queue a cancel.
    const ready = await api.app.inject({ method: 'GET', url: '/readyz' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toMatchObject({ status: 'ready', checks: { postgres: { ok: true }, redis: { ok: true }, operator: { ok: false } } })
    const walletId = (await api.h.db.select({ walletId: orders.walletId }).from(orders).where(eq(orders.id, acceptedOrderId)))[0]!.walletId
    const halted = await tenant.request('POST', `/v1/wallets/${walletId}/halt`, { reason: 'operator flapping' })
    expect(halted.statusCode).toBeLessThan(300)

    const key = { 'idempotency-key': 'revoke-while-down' }
    const first = await tenant.request('POST', `/v1/sessions/${sessionId}/revoke`, {}, key)
    expect(first.statusCode).toBe(503)
    expect(first.json()).toMatchObject({ error: { code: 'VENUE.TRANSPORT' } })
    const second = await tenant.request('POST', `/v1/sessions/${sessionId}/revoke`, {}, key)
    expect(second.statusCode).toBe(503)
    expect(second.headers['idempotent-replayed']).toBeUndefined()
    expect((await tenant.request('GET', `/v1/sessions/${sessionId}`)).json()).toMatchObject({ status: 'active' })
  })
})
