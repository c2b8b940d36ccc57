/**
 * Each tenant may make API_RATE_LIMIT_PER_MINUTE requests a minute on /v1 (counted per API
 * process); one more is refused 429 API.RATE_LIMITED with Retry-After, before its body is read or
 * anything stored. Halts, compromises, cancels, revocations and schedule pauses and deletions are
 * neither refused nor counted: a tenant whose client ran away can still stop trading.
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApi } from '../../src/api/buildApi.js'
import { type Tenant, apiHarnessForFile, tradingWallet } from './support/apiHarness.js'

const LIMIT = 5
type ErrorBody = { error: { code: string; message: string; field: string; rule: string } }

describe('a tenant\'s request rate', () => {
  // The harness's own API (the default limit) sets things up; each test asks a second API on the
  // same worker, limited to LIMIT a minute, so setup requests do not count against it.
  const file = apiHarnessForFile()
  const opened: FastifyInstance[] = []
  afterEach(async () => { await Promise.all(opened.splice(0).map((app) => app.close())) })
  const limitedApi = async (rateLimitPerMinute = LIMIT) => {
    const app = await buildApi({ ...file.api.deps, rateLimitPerMinute }, { logger: false })
    opened.push(app)
    return (tenant: Tenant, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, extra: Record<string, string> = {}) =>
      app.inject({ method, url, headers: { ...tenant.headers, ...extra }, ...(payload === undefined ? {} : { payload: payload as object }) })
  }

  it('is refused 429 past the limit, naming the rule, with Retry-After; another tenant\'s requests still go', async () => {
    const send = await limitedApi()
    const [a, b] = [await file.api.tenant(), await file.api.tenant()]
    const statuses = []
    for (let i = 0; i < LIMIT; i++) statuses.push((await send(a, 'GET', '/v1/wallets')).statusCode)
    expect(statuses).toEqual(Array(LIMIT).fill(200))
    const refused = await send(a, 'GET', '/v1/wallets')
    expect(refused.statusCode).toBe(429)
    expect(refused.json<ErrorBody>().error).toMatchObject({ code: 'API.RATE_LIMITED', field: 'authorization', rule: expect.stringMatching(/^at most 5 requests a minute per tenant/) })
    const retryAfter = Number(refused.headers['retry-after'])
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(refused.headers['x-ratelimit-limit']).toBe(String(LIMIT))
    expect((await send(b, 'GET', '/v1/wallets')).statusCode).toBe(200)
    // A request without a valid key is refused for that: the limit counts tenants, known from a valid key.
    expect((await send({ ...a, headers: { authorization: 'Bearer dpk_nope' } }, 'GET', '/v1/wallets')).statusCode).toBe(401)
  })

  it('refuses before reading the body or storing anything, and leaves an Idempotency-Key free for the retry', async () => {
    const send = await limitedApi()
    const tenant = await file.api.tenant()
    for (let i = 0; i < LIMIT; i++) expect((await send(tenant, 'GET', '/v1/wallets')).statusCode).toBe(200)
    // Not JSON: read, it would be a 400.
    expect((await send(tenant, 'POST', '/v1/wallets', '{not json', { 'content-type': 'application/json' })).statusCode).toBe(429)
    const key = randomUUID()
    const refused = await send(tenant, 'POST', '/v1/wallets', { generate: true }, { 'idempotency-key': key })
    expect(refused.statusCode).toBe(429)
    const listed = await tenant.request('GET', '/v1/wallets')
    expect(listed.json<{ wallets: unknown[] }>().wallets).toEqual([])
    // The retry, on an API with room left, is done, not answered with the stored refusal.
    const retried = await tenant.request('POST', '/v1/wallets', { generate: true }, { 'idempotency-key': key })
    expect(retried.statusCode, retried.body).toBe(201)
  })

  it('never refuses nor counts halts, compromises, cancels, revocations, schedule pauses and deletions', async () => {
    const send = await limitedApi()
    const tenant = await file.api.tenant()
    const { wallet, session } = await tradingWallet(file.api, tenant)
    const placed = await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', size: '0.1', price: '100' })
    expect(placed.statusCode, placed.body).toBe(201)
    const orderId = placed.json<{ id: string }>().id
    const schedule = await tenant.request('POST', `/v1/wallets/${wallet.id}/schedules`, { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 * * * *', timeZone: 'UTC', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 })
    expect(schedule.statusCode, schedule.body).toBe(201)
    const scheduleId = schedule.json<{ id: string }>().id
    for (let i = 0; i < LIMIT - 1; i++) expect((await send(tenant, 'GET', '/v1/wallets')).statusCode).toBe(200)
    const riskReducing = [
      await send(tenant, 'POST', `/v1/orders/${orderId}/cancel`, {}),
      await send(tenant, 'POST', `/v1/wallets/${wallet.id}/cancel-all`, {}),
      await send(tenant, 'POST', `/v1/schedules/${scheduleId}/pause`, {}),
      await send(tenant, 'DELETE', `/v1/schedules/${scheduleId}`),
      await send(tenant, 'POST', `/v1/wallets/${wallet.id}/halt`, { reason: 'runaway client' }),
      await send(tenant, 'POST', `/v1/sessions/${session.id}/revoke`, {}),
      await send(tenant, 'POST', `/v1/wallets/${wallet.id}/compromise`, { reason: 'key seen in a log' }),
    ]
    for (const response of riskReducing) expect(response.statusCode, response.body).toBeLessThan(300)
    // None of them counted: one request of the minute is left (a GET of the schedule, on the path a
    // DELETE is exempt on: counted), then the limit.
    expect((await send(tenant, 'GET', `/v1/schedules/${scheduleId}`)).statusCode).toBe(200)
    expect((await send(tenant, 'GET', '/v1/wallets')).statusCode).toBe(429)
    // And past the limit they still go.
    const again = await send(tenant, 'POST', `/v1/wallets/${wallet.id}/halt`, { reason: 'still halted' })
    expect(again.statusCode, again.body).toBeLessThan(300)
  })

  it('limits nothing when set to 0', async () => {
    const send = await limitedApi(0)
    const tenant = await file.api.tenant()
    const answers = []
    for (let i = 0; i < 3 * LIMIT; i++) answers.push(await send(tenant, 'GET', '/v1/wallets'))
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(3 * LIMIT).fill(200))
    // Not counted at all (not a default limit read for 0): no limit headers.
    expect(answers.filter((answer) => answer.headers['x-ratelimit-limit'] !== undefined)).toEqual([])
  })
})
