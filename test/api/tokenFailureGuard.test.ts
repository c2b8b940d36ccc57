/**
 * A client that failed the admin or metrics token check TOKEN_FAILURES_PER_MINUTE times in a
 * minute is refused 429 API.AUTH_RATE_LIMITED with Retry-After on the routes behind those tokens
 * (/admin, Bull Board, /metrics) for the rest of that minute, before the token is looked at. Tenant
 * API keys are not counted: they cannot be guessed, and a count would let one client refuse every
 * tenant behind the same address.
 */
import type { FastifyInstance, InjectOptions } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { clientOf } from '../../src/api/auth/tokenFailureGuard.js'
import { buildApi } from '../../src/api/buildApi.js'
import type { ApiDeps } from '../../src/api/ApiDeps.js'
import { apiHarnessForFile } from './support/apiHarness.js'

const LIMIT = 3
const METRICS_TOKEN = 'metrics-token-for-this-test'
type ErrorBody = { error: { code: string; message: string; field: string; rule: string } }
const WRONG = 'Bearer not-the-token-at-all'
const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`

describe('failed admin and metrics token checks from one client', () => {
  const file = apiHarnessForFile()
  const opened: FastifyInstance[] = []
  afterEach(async () => { await Promise.all(opened.splice(0).map((app) => app.close())) })
  /** A second API on the harness's worker, counting LIMIT failures a minute on a clock the test moves. */
  const guardedApi = async (extra: Partial<ApiDeps> = {}) => {
    const clock = { ms: Date.now() }
    const deps = { ...file.api.deps, runtime: { ...file.api.deps.runtime, now: () => clock.ms }, tokenFailuresPerMinute: LIMIT, metricsToken: METRICS_TOKEN, ...extra }
    const app = await buildApi(deps, { logger: false })
    opened.push(app)
    const send = (from: string, authorization: string, options: Omit<InjectOptions, 'remoteAddress'> = {}) =>
      app.inject({ method: 'GET', url: '/admin/tenants', remoteAddress: from, ...options, headers: { authorization, ...options.headers } })
    return { send, clock }
  }
  const admin = () => file.api.admin.authorization

  it('are refused on the admin routes, Bull Board and /metrics for the rest of the minute once there were LIMIT, the right token or not; other clients are served', async () => {
    const { send, clock } = await guardedApi()
    for (let i = 0; i < LIMIT; i++) expect((await send('10.0.0.1', WRONG)).statusCode).toBe(401)
    const refused = await send('10.0.0.1', admin())
    expect(refused.statusCode).toBe(429)
    expect(refused.json<ErrorBody>().error).toMatchObject({ code: 'API.AUTH_RATE_LIMITED', field: 'authorization', rule: 'at most 3 failed token checks a minute from one client address' })
    expect(refused.headers['retry-after']).toBe('60')
    const board = await send('10.0.0.1', admin(), { url: '/admin/queues/api/queues' })
    expect([board.statusCode, board.headers['retry-after']]).toEqual([429, '60'])
    expect(board.json<ErrorBody>().error).toMatchObject({ code: 'API.AUTH_RATE_LIMITED', field: 'authorization' })
    expect((await send('10.0.0.1', `Bearer ${METRICS_TOKEN}`, { url: '/metrics' })).statusCode).toBe(429)
    // The tenant routes do not look at these tokens: a valid API key is served.
    expect((await send('10.0.0.1', file.tenant.headers.authorization, { url: '/v1/wallets' })).statusCode).toBe(200)
    // Another client: its own count, and served.
    expect((await send('10.0.0.2', admin())).statusCode).toBe(200)
    expect((await send('10.0.0.2', admin(), { url: '/admin/queues/api/queues' })).statusCode).toBe(200)

    clock.ms += 45_000
    expect((await send('10.0.0.1', admin())).headers['retry-after']).toBe('15')
    clock.ms += 15_000
    expect((await send('10.0.0.1', admin())).statusCode).toBe(200)
  })

  it('count a wrong metrics token, a wrong admin token on the routes or on Bull Board (as a browser sends it), alike', async () => {
    const { send } = await guardedApi()
    expect((await send('10.0.0.3', WRONG, { url: '/metrics' })).statusCode).toBe(401)
    expect((await send('10.0.0.3', basic('not-the-token'), { url: '/admin/queues' })).statusCode).toBe(401)
    expect((await send('10.0.0.3', WRONG)).statusCode).toBe(401)
    expect((await send('10.0.0.3', admin())).statusCode).toBe(429)
  })

  it('arriving together are checked one at a time: LIMIT of them are answered 401, the rest 429', async () => {
    const { send } = await guardedApi()
    const answers = await Promise.all(Array.from({ length: 4 * LIMIT }, () => send('10.0.0.4', WRONG)))
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([...Array(LIMIT).fill(401), ...Array(3 * LIMIT).fill(429)])
  })

  it('do not include checks that passed: a busy client with the right token is never refused for them', async () => {
    const { send } = await guardedApi()
    for (let i = 0; i < 4 * LIMIT; i++) expect((await send('10.0.0.5', admin())).statusCode).toBe(200)
    for (let i = 0; i < LIMIT - 1; i++) expect((await send('10.0.0.5', WRONG)).statusCode).toBe(401)
    expect((await send('10.0.0.5', admin())).statusCode).toBe(200)
  })

  it('leave tenant API keys alone: a client sending wrong ones is answered 401 each time, and its right one is served', async () => {
    const { send } = await guardedApi()
    const unknownKey = `Bearer dpk_${'0'.repeat(32)}_${'A'.repeat(43)}`
    for (let i = 0; i < 3 * LIMIT; i++) expect((await send('10.0.0.6', unknownKey, { url: '/v1/wallets' })).statusCode).toBe(401)
    expect((await send('10.0.0.6', file.tenant.headers.authorization, { url: '/v1/wallets' })).statusCode).toBe(200)
    expect((await send('10.0.0.6', admin())).statusCode).toBe(200)
  })

  it('are not counted while ADMIN_TOKEN is unset (no token to guess), nor with TOKEN_FAILURES_PER_MINUTE 0', async () => {
    const closed = await guardedApi({ adminToken: undefined })
    for (let i = 0; i < 3 * LIMIT; i++) expect((await closed.send('10.0.0.7', WRONG)).statusCode).toBe(401)
    expect((await closed.send('10.0.0.7', `Bearer ${METRICS_TOKEN}`, { url: '/metrics' })).statusCode).toBe(200)
    const off = await guardedApi({ tokenFailuresPerMinute: 0 })
    for (let i = 0; i < 3 * LIMIT; i++) expect((await off.send('10.0.0.7', WRONG)).statusCode).toBe(401)
    expect((await off.send('10.0.0.7', admin())).statusCode).toBe(200)
  })

  it('are counted for the client a trusted proxy names (TRUST_PROXY), and for the peer when it is not one', async () => {
    const proxied = await guardedApi({ trustProxy: ['10.9.0.0/16'] })
    const viaProxy = (client: string, authorization: string) => proxied.send('10.9.0.1', authorization, { headers: { 'x-forwarded-for': client } })
    for (let i = 0; i < LIMIT; i++) expect((await viaProxy('198.51.100.7', WRONG)).statusCode).toBe(401)
    expect((await viaProxy('198.51.100.7', admin())).statusCode).toBe(429)
    // Another client behind the same proxy.
    expect((await viaProxy('198.51.100.8', admin())).statusCode).toBe(200)
    // A peer that is not a trusted proxy names itself in vain.
    const direct = (client: string, authorization: string) => proxied.send('192.0.2.1', authorization, { headers: { 'x-forwarded-for': client } })
    for (let i = 0; i < LIMIT; i++) expect((await direct(`198.51.100.${10 + i}`, WRONG)).statusCode).toBe(401)
    expect((await direct('198.51.100.99', admin())).statusCode).toBe(429)
    // Without TRUST_PROXY nobody's header is believed.
    const unproxied = await guardedApi()
    for (let i = 0; i < LIMIT; i++) expect((await unproxied.send('10.9.0.1', WRONG, { headers: { 'x-forwarded-for': `198.51.100.${20 + i}` } })).statusCode).toBe(401)
    expect((await unproxied.send('10.9.0.1', admin(), { headers: { 'x-forwarded-for': '198.51.100.30' } })).statusCode).toBe(429)
  })

  it('are counted per /64 for IPv6 clients: one host cannot change its address for every try', async () => {
    const { send } = await guardedApi()
    for (let i = 0; i < LIMIT; i++) expect((await send(`2001:db8:1:2::${i + 1}`, WRONG)).statusCode).toBe(401)
    expect((await send('2001:db8:1:2:ffff:ffff:ffff:ffff', admin())).statusCode).toBe(429)
    expect((await send('2001:db8:1:3::1', admin())).statusCode).toBe(200)
  })
})

describe('the client a failure is counted against', () => {
  it('is the IPv4 address, read the same from its IPv4-mapped form or with a port a proxy appended', () => {
    for (const ip of ['203.0.113.9', '::ffff:203.0.113.9', '::FFFF:203.0.113.9', '203.0.113.9:51234']) expect(clientOf(ip), ip).toBe('203.0.113.9')
  })

  it('is the /64 of an IPv6 address, however it is written', () => {
    for (const ip of ['2001:db8:0:1::5', '2001:0db8:0000:0001:0000:0000:0000:0005', '2001:DB8:0:1:abcd::', '[2001:db8:0:1::5]:443', '2001:db8:0:1::5%eth0']) {
      expect(clientOf(ip), ip).toBe('2001:db8:0:1::/64')
    }
    expect(clientOf('::1')).toBe('0:0:0:0::/64')
    expect(clientOf('fe80::1')).toBe('fe80:0:0:0::/64')
    expect(clientOf('2001:db8::')).toBe('2001:db8:0:0::/64')
    expect(clientOf('64:ff9b::192.0.2.33')).toBe('64:ff9b:0:0::/64')
  })
})
