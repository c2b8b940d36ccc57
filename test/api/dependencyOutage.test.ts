/**
 * The API's operator views while Redis or Postgres is down. `/metrics` and `/status` are what an
 * operator looks at in an outage, so neither may hang on the part that is down: each answers
 * within its deadline with what the other part knows, and says which part did not answer
 * (`deputy_metrics_source_up`, `queuesUnavailable`). Redis, Postgres and the operator sit behind TCP
 * relays that the tests close (or hang) and open again (`lateRelay`).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { BULL_BOARD_READ_TIMEOUT_MS } from '../../src/api/bullBoard.js'
import { type ApiServer, startApiServer } from '../../src/api/startApiServer.js'
import { statusText } from '../../src/cli/commands/status.js'
import type { StatusDto } from '../../src/cli/types.js'
import { loadConfig } from '../../src/config.js'
import { capturedLog } from '../support/capturedLog.js'
import { lateRelay } from '../support/lateRelay.js'
import { REDIS_URL, createHarness, eventually, type Harness } from '../worker/support/harness.js'

/** What one request may take while a part is down: the API's 2 s deadline, and slack for this machine. */
const ANSWER_WITHIN_MS = 4_000

let h: Harness
let redis: Awaited<ReturnType<typeof lateRelay>>
let postgres: Awaited<ReturnType<typeof lateRelay>>
let operator: Awaited<ReturnType<typeof lateRelay>>
let server: ApiServer
const adminToken = randomBytes(24).toString('base64url')
let tenantKey: string
const apiLog = capturedLog('warn')

beforeAll(async () => {
  h = await createHarness()
  redis = await lateRelay(REDIS_URL)
  postgres = await lateRelay(h.databaseUrl)
  operator = await lateRelay(h.sandbox.url)
  await Promise.all([redis.open(), postgres.open(), operator.open()])
  server = await startApiServer(loadConfig({
    DATABASE_URL: postgres.url, REDIS_URL: redis.url, QUEUE_PREFIX: h.queuePrefix, OPERATOR_URL: operator.url,
    DEPUTY_MASTER_KEY: h.masterKey, API_PORT: '0', API_HOST: '127.0.0.1', ADMIN_TOKEN: adminToken, LOG_LEVEL: 'silent',
  }), apiLog.log)
  const created = await call('/admin/tenants', { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'outage' }) })
  expect(created.status).toBe(201)
  tenantKey = (await created.json() as { apiKey: { key: string } }).apiKey.key
}, 60_000)
afterAll(async () => {
  await server?.close()
  await Promise.all([redis?.close(), postgres?.close(), operator?.close()])
  await h?.close()
})

/** A request to the listening API, failing the test if it has no answer in time. */
function call(path: string, init: RequestInit = {}, withinMs = ANSWER_WITHIN_MS): Promise<Response> {
  return fetch(new URL(path, server.url), { ...init, signal: AbortSignal.timeout(withinMs) })
}
const asTenant = { headers: { get authorization() { return `Bearer ${tenantKey}` } } }

/** The value of one series line, e.g. `deputy_orders{state="open"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}
const metrics = async () => {
  const response = await call('/metrics')
  expect(response.status).toBe(200)
  return response.text()
}

it('with Redis down, /metrics answers the Postgres series and marks Redis down, and /status answers without its queues; both recover with Redis', async () => {
  const healthy = await metrics()
  expect(sample(healthy, 'deputy_metrics_source_up{source="redis"}')).toBe(1)
  expect(sample(healthy, 'deputy_metrics_source_up{source="postgres"}')).toBe(1)
  expect(sample(healthy, 'deputy_queue_jobs{queue="submit",state="waiting"}')).toBe(0)

  await redis.close()
  try {
    const text = await metrics()
    expect(sample(text, 'deputy_metrics_source_up{source="redis"}')).toBe(0)
    expect(sample(text, 'deputy_metrics_source_up{source="postgres"}')).toBe(1)
    // No stale queue depths: the series is absent while Redis does not answer.
    expect(sample(text, 'deputy_queue_jobs{queue="submit",state="waiting"}')).toBeUndefined()
    expect(sample(text, 'deputy_orders{state="open"}')).toBe(0)

    const status = await call('/v1/status', asTenant)
    expect(status.status).toBe(200)
    const body = await status.json() as StatusDto
    expect(body.wallets).toEqual([])
    expect(body.queues).toBeNull()
    expect(body.queuesUnavailable).toBe('Redis: no answer within 2000 ms')
    expect(statusText(body)).toContain('QUEUES\nunavailable (Redis: no answer within 2000 ms)')

    // Bull Board's reads (the page polls them) answer 503 after their own deadline; an action
    // (pausing a queue) is not cut short, and happens once Redis is back.
    const asAdmin = { authorization: `Bearer ${adminToken}` }
    let pauseAnswered = false
    const pausing = call('/admin/queues/api/queues/control/pause', { method: 'PUT', headers: asAdmin }, 60_000).finally(() => { pauseAnswered = true })
    const board = await call('/admin/queues/api/queues', { headers: asAdmin }, BULL_BOARD_READ_TIMEOUT_MS + 2_000)
    expect(board.status).toBe(503)
    expect(await board.text()).toContain(`timed out after ${BULL_BOARD_READ_TIMEOUT_MS} ms`)
    expect(pauseAnswered).toBe(false)
    await redis.open()
    expect((await pausing).status).toBe(200)
  } finally {
    await redis.open()
  }
  await eventually(async () => sample(await metrics(), 'deputy_metrics_source_up{source="redis"}') === 1, 20_000)
  const status = await (await call('/v1/status', asTenant)).json() as StatusDto
  expect(status.queues?.control?.paused).toBe(true)
  expect(status.queues?.submit?.paused).toBe(false)
  expect(status.queuesUnavailable).toBeUndefined()
  // The board read answered 503 finished once Redis was back (before the pause, queued after it):
  // its late answer is dropped, not logged as a second reply to the same request.
  expect(apiLog.lines.filter((line) => line.includes('already sent'))).toEqual([])
}, 60_000)

it('with Postgres down, /metrics answers the queue series and marks Postgres down, without stale Postgres series, and requests that need Postgres answer 503', async () => {
  await postgres.close()
  try {
    const text = await metrics()
    expect(sample(text, 'deputy_metrics_source_up{source="postgres"}')).toBe(0)
    expect(sample(text, 'deputy_metrics_source_up{source="redis"}')).toBe(1)
    expect(sample(text, 'deputy_queue_jobs{queue="submit",state="waiting"}')).toBe(0)
    expect(sample(text, 'deputy_orders{state="open"}')).toBeUndefined()
    expect(sample(text, 'deputy_sessions_expiring{within="1h"}')).toBeUndefined()

    // Every request that needs Postgres answers 503 with a code and Retry-After, not a 500.
    for (const [method, path] of [['GET', '/v1/status'], ['POST', `/v1/wallets/${randomUUID()}/orders`]] as const) {
      const response = await call(path, {
        method, headers: { ...asTenant.headers, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify({ market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }) } : {}),
      })
      expect(response.status, path).toBe(503)
      expect(response.headers.get('retry-after')).toBe('2')
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('STORE.UNAVAILABLE')
    }

    // /readyz is unauthenticated: it says Postgres failed, not the error (its host and port), which is logged.
    const ready = await call('/readyz')
    expect(ready.status).toBe(503)
    const { checks } = await ready.json() as { checks: { postgres: { ok: boolean; detail: string } } }
    expect(checks.postgres.ok).toBe(false)
    expect(checks.postgres.detail).toMatch(/^(failed \(the API log has the error\)|no answer within 2000 ms)$/)
    expect(apiLog.entries().filter((entry) => entry.msg === 'readiness check failed' && entry.dependency === 'postgres').length).toBeGreaterThan(0)
  } finally {
    await postgres.open()
  }
  await eventually(async () => sample(await metrics(), 'deputy_metrics_source_up{source="postgres"}') === 1, 20_000)
  expect(sample(await metrics(), 'deputy_orders{state="open"}')).toBe(0)
}, 60_000)

it('with the operator silent (connections taken, never answered), /readyz answers ready within its deadline saying the operator gave no answer, and /healthz 200', async () => {
  await operator.hang()
  try {
    const ready = await call('/readyz')
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { postgres: { ok: true }, redis: { ok: true }, operator: { ok: false, detail: 'no answer within 2000 ms' } },
    })
    // Liveness does not depend on any part: a restart would not bring the operator back.
    expect((await call('/healthz')).status).toBe(200)
  } finally {
    await operator.open()
  }
  await eventually(async () => (await (await call('/readyz')).json() as { checks: { operator: { ok: boolean } } }).checks.operator.ok, 20_000)
}, 60_000)
