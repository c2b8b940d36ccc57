/**
 * A client address that failed to authenticate AUTH_FAILURES_PER_MINUTE times in a minute (an API
 * key unknown or revoked, a wrong admin or metrics token) is refused 429 API.AUTH_RATE_LIMITED with
 * Retry-After for the rest of that minute, before its credentials are looked at, on every route that
 * checks any. A tenant's halts and cancels are still served with a valid key.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApi } from '../../src/api/buildApi.js'
import type { ApiDeps } from '../../src/api/ApiDeps.js'
import { apiHarnessForFile } from './support/apiHarness.js'

const LIMIT = 3
const METRICS_TOKEN = 'metrics-token-for-this-test'
type ErrorBody = { error: { code: string; message: string; field: string; rule: string } }
/** Well-formed, so each is looked up: what a guesser sends. */
const unknownKey = () => `Bearer dpk_${randomBytes(16).toString('hex')}_${randomBytes(32).toString('base64url')}`

describe('failed authentications from one client address', () => {
  const file = apiHarnessForFile()
  const opened: FastifyInstance[] = []
  afterEach(async () => { await Promise.all(opened.splice(0).map((app) => app.close())) })
  /** A second API on the harness's worker, counting LIMIT failures a minute on a clock the test moves. */
  const guardedApi = async (extra: Partial<ApiDeps> = {}) => {
    const clock = { ms: Date.now() }
    const deps = { ...file.api.deps, runtime: { ...file.api.deps.runtime, now: () => clock.ms }, authFailuresPerMinute: LIMIT, metricsToken: METRICS_TOKEN, ...extra }
    const app = await buildApi(deps, { logger: false })
    opened.push(app)
    const send = (from: string, authorization: string, options: Omit<InjectOptions, 'remoteAddress'> = {}) =>
      app.inject({ method: 'GET', url: '/v1/wallets', remoteAddress: from, ...options, headers: { authorization, ...options.headers } })
    return { send, clock }
  }

  it('are refused for the rest of the minute once there were LIMIT, valid credentials or not, on every route that checks any; other addresses are served', async () => {
    const { send, clock } = await guardedApi()
    const { headers: tenant } = file.tenant
    for (let i = 0; i < LIMIT; i++) expect((await send('10.0.0.1', unknownKey())).statusCode).toBe(401)
    const refused = await send('10.0.0.1', tenant.authorization)
    expect(refused.statusCode).toBe(429)
    expect(refused.json<ErrorBody>().error).toMatchObject({ code: 'API.AUTH_RATE_LIMITED', field: 'authorization', rule: 'at most 3 failed authentications a minute from one client address' })
    expect(refused.headers['retry-after']).toBe('60')
    // The admin routes, Bull Board and /metrics: refused the same, their own valid credentials too.
    const admin = file.api.admin.authorization
    expect((await send('10.0.0.1', admin, { url: '/admin/tenants' })).statusCode).toBe(429)
    expect((await send('10.0.0.1', admin, { url: '/admin/queues/api/queues' })).statusCode).toBe(429)
    expect((await send('10.0.0.1', `Bearer ${METRICS_TOKEN}`, { url: '/metrics' })).statusCode).toBe(429)
    // Another address: its own count, and served.
    expect((await send('10.0.0.2', tenant.authorization)).statusCode).toBe(200)
    expect((await send('10.0.0.2', admin, { url: '/admin/queues/api/queues' })).statusCode).toBe(200)

    clock.ms += 45_000
    expect((await send('10.0.0.1', tenant.authorization)).headers['retry-after']).toBe('15')
    clock.ms += 15_000
    expect((await send('10.0.0.1', tenant.authorization)).statusCode).toBe(200)
  })

  it('count whichever credentials failed: a wrong metrics token, admin token or API key', async () => {
    const { send } = await guardedApi()
    expect((await send('10.0.0.3', 'Bearer not-the-metrics-token', { url: '/metrics' })).statusCode).toBe(401)
    expect((await send('10.0.0.3', 'Bearer not-the-admin-token', { url: '/admin/tenants' })).statusCode).toBe(401)
    // Not even the form of a key.
    expect((await send('10.0.0.3', 'Bearer nope')).statusCode).toBe(401)
    expect((await send('10.0.0.3', file.tenant.headers.authorization)).statusCode).toBe(429)
  })

  it('do not include requests that passed: a busy client with valid credentials is never refused for them', async () => {
    const { send } = await guardedApi()
    for (let i = 0; i < 4 * LIMIT; i++) expect((await send('10.0.0.4', file.tenant.headers.authorization)).statusCode).toBe(200)
    for (let i = 0; i < LIMIT - 1; i++) expect((await send('10.0.0.4', unknownKey())).statusCode).toBe(401)
    expect((await send('10.0.0.4', file.tenant.headers.authorization)).statusCode).toBe(200)
  })

  it('leave a tenant\'s halt and cancels served with a valid key (still checked: a wrong one is refused 401)', async () => {
    const { send } = await guardedApi()
    const created = await file.tenant.request('POST', '/v1/wallets', { generate: true })
    const wallet = created.json<{ id: string }>()
    for (let i = 0; i < LIMIT; i++) expect((await send('10.0.0.5', unknownKey())).statusCode).toBe(401)
    expect((await send('10.0.0.5', file.tenant.headers.authorization)).statusCode).toBe(429)
    const halt = (authorization: string) => send('10.0.0.5', authorization, { method: 'POST', url: `/v1/wallets/${wallet.id}/halt`, payload: { reason: 'a client of ours is broken' } })
    expect((await halt(unknownKey())).statusCode).toBe(401)
    const halted = await halt(file.tenant.headers.authorization)
    expect(halted.statusCode, halted.body).toBe(200)
    expect((await send('10.0.0.5', file.tenant.headers.authorization, { method: 'POST', url: `/v1/wallets/${wallet.id}/cancel-all`, payload: {} })).statusCode).not.toBe(429)
  })

  it('are counted for the client a trusted proxy names (TRUST_PROXY), and for the peer when it is not one', async () => {
    const proxied = await guardedApi({ trustProxy: ['10.9.0.0/16'] })
    const viaProxy = (client: string, authorization: string) => proxied.send('10.9.0.1', authorization, { headers: { 'x-forwarded-for': client } })
    for (let i = 0; i < LIMIT; i++) expect((await viaProxy('198.51.100.7', unknownKey())).statusCode).toBe(401)
    expect((await viaProxy('198.51.100.7', file.tenant.headers.authorization)).statusCode).toBe(429)
    // Another client behind the same proxy.
    expect((await viaProxy('198.51.100.8', file.tenant.headers.authorization)).statusCode).toBe(200)
    // A peer that is not a trusted proxy names itself in vain.
    const direct = (client: string, authorization: string) => proxied.send('192.0.2.1', authorization, { headers: { 'x-forwarded-for': client } })
    for (let i = 0; i < LIMIT; i++) expect((await direct(`198.51.100.${10 + i}`, unknownKey())).statusCode).toBe(401)
    expect((await direct('198.51.100.99', file.tenant.headers.authorization)).statusCode).toBe(429)

    // Without TRUST_PROXY nobody's header is believed.
    const unproxied = await guardedApi()
    for (let i = 0; i < LIMIT; i++) expect((await unproxied.send('10.9.0.1', unknownKey(), { headers: { 'x-forwarded-for': `198.51.100.${20 + i}` } })).statusCode).toBe(401)
    expect((await unproxied.send('10.9.0.1', file.tenant.headers.authorization, { headers: { 'x-forwarded-for': '198.51.100.30' } })).statusCode).toBe(429)
  })

  it('are not counted with AUTH_FAILURES_PER_MINUTE 0', async () => {
    const { send } = await guardedApi({ authFailuresPerMinute: 0 })
    for (let i = 0; i < 3 * LIMIT; i++) expect((await send('10.0.0.6', unknownKey())).statusCode).toBe(401)
    expect((await send('10.0.0.6', file.tenant.headers.authorization)).statusCode).toBe(200)
  })
})
