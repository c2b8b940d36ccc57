/**
 * A statement Postgres cancels at `DATABASE_QUERY_TIMEOUT_MS` (SQLSTATE 57014, here because a lock
 * it needs is held elsewhere) answers 503 `STORE.UNAVAILABLE` with Retry-After, like a Postgres
 * that cannot be reached: the request may be retried, and nothing about it is a bug (500).
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { pino } from 'pino'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type ApiServer, startApiServer } from '../../src/api/startApiServer.js'
import { loadConfig } from '../../src/config.js'
import { createHarness, type Harness } from '../worker/support/harness.js'

// Short enough for a test, long enough that no other statement of the test meets it on a loaded machine.
const QUERY_TIMEOUT_MS = 1_000
let h: Harness
let server: ApiServer
const adminToken = randomBytes(24).toString('base64url')
let authorization: string

beforeAll(async () => {
  h = await createHarness()
  server = await startApiServer(loadConfig({
    DATABASE_URL: h.databaseUrl, QUEUE_PREFIX: h.queuePrefix, OPERATOR_URL: h.sandbox.url, DEPUTY_MASTER_KEY: h.masterKey,
    DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS), API_PORT: '0', API_HOST: '127.0.0.1', ADMIN_TOKEN: adminToken, LOG_LEVEL: 'silent',
  }), pino({ level: 'silent' }))
  const created = await fetch(new URL('/admin/tenants', server.url), { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'timeout' }) })
  expect(created.status).toBe(201)
  authorization = `Bearer ${(await created.json() as { apiKey: { key: string } }).apiKey.key}`
}, 60_000)
afterAll(async () => {
  await server?.close()
  await h?.close()
})

it('answers 503 STORE.UNAVAILABLE with Retry-After when Postgres cancels the statement at the limit, and 200 once it can run', async () => {
  const listWallets = () => fetch(new URL('/v1/wallets', server.url), { headers: { authorization }, signal: AbortSignal.timeout(10_000) })
  expect((await listWallets()).status).toBe(200)
  const locker = new pg.Client({ connectionString: h.databaseUrl })
  await locker.connect()
  try {
    await locker.query('begin')
    await locker.query('lock table wallets in access exclusive mode')
    const started = Date.now()
    const blocked = await listWallets()
    expect(blocked.status).toBe(503)
    expect(blocked.headers.get('retry-after')).toBe('2')
    expect(await blocked.json()).toMatchObject({ error: { code: 'STORE.UNAVAILABLE' } })
    // Cancelled by Postgres at the limit, not by the client's later grace.
    expect(Date.now() - started).toBeGreaterThanOrEqual(QUERY_TIMEOUT_MS)
  } finally {
    await locker.query('rollback').catch(() => undefined)
    await locker.end()
  }
  expect((await listWallets()).status).toBe(200)
})
