/**
 * The API's /readyz asks every Redis connection it works on, not only the submit queue's: with the
 * control queue's connection gone (schedules, cancels of a schedule's legs, Bull Board's control
 * queue and the status counts go through it) the API answered ready. And a check that keeps failing
 * is logged once, and once again when it passes: a supervisor probing every few seconds logged a
 * warning per probe. Built as `deputy api` builds it (`openApiDeps`: connections of its own).
 */
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { ApiDeps } from '../../src/api/ApiDeps.js'
import { buildApi } from '../../src/api/buildApi.js'
import { openApiDeps } from '../../src/api/openApiDeps.js'
import { loadConfig } from '../../src/config.js'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { type Sandbox, startSandbox } from '../../src/sandbox/startSandbox.js'
import type { SandboxOptions } from '../../src/sandbox/config.js'
import { capturedLog } from '../support/capturedLog.js'
import { type TestDatabase, createTestDatabase } from '../support/database.js'
import { REDIS_URL } from '../worker/support/harness.js'

let sandbox: Sandbox
let testDb: TestDatabase
let deps: (ApiDeps & { close(): Promise<void> }) | undefined
let app: FastifyInstance | undefined
const prefix = `deputy-test-${randomUUID().slice(0, 8)}`
const { log, entries } = capturedLog('info')
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, quiet: true } as SandboxOptions)
  testDb = await createTestDatabase()
  const config = loadConfig({
    DATABASE_URL: testDb.url, REDIS_URL, QUEUE_PREFIX: prefix, OPERATOR_URL: sandbox.url,
    DEPUTY_MASTER_KEY: generateMasterKey('test'), LOG_LEVEL: 'info', API_RATE_LIMIT_PER_MINUTE: '9',
    TOKEN_FAILURES_PER_MINUTE: '3', TRUST_PROXY: '10.0.0.0/8, loopback', METRICS_TOKEN: 'metrics-token-of-this-test',
  })
  deps = await openApiDeps(config, log)
  app = await buildApi(deps)
}, 60_000)
afterAll(async () => {
  await app?.close()
  await deps?.close()
  await deleteQueueKeys(REDIS_URL, prefix)
  await sandbox?.close()
  await testDb?.drop()
})

it('takes each tenant\'s request rate from API_RATE_LIMIT_PER_MINUTE', () => {
  expect(deps!.rateLimitPerMinute).toBe(9)
})

it('counts failed metrics token checks per client as TOKEN_FAILURES_PER_MINUTE says, the client named by the proxies TRUST_PROXY lists', async () => {
  expect([deps!.tokenFailuresPerMinute, deps!.trustProxy]).toEqual([3, ['10.0.0.0/8', 'loopback']])
  // The peer is loopback, a proxy believed.
  const scrape = (client: string) => app!.inject({ method: 'GET', url: '/metrics', headers: { 'x-forwarded-for': client, authorization: 'Bearer not-the-metrics-token' } })
  for (let i = 0; i < 3; i++) expect((await scrape('203.0.113.1')).statusCode).toBe(401)
  expect((await scrape('203.0.113.1')).statusCode).toBe(429)
  expect((await scrape('203.0.113.2')).statusCode).toBe(401)
})

const ready = async () => {
  const response = await app!.inject({ method: 'GET', url: '/readyz' })
  return { statusCode: response.statusCode, body: response.json<unknown>() }
}

it('is not ready while the control queue\'s connection is down, naming it, and logs the failure once and the recovery once', async () => {
  expect((await ready()).statusCode).toBe(200)

  // The connection the API gave the control queue (BullMQ works on it as given).
  const control = deps!.controlQueue.opts.connection as Redis
  control.disconnect()
  for (let probe = 0; probe < 3; probe++) {
    expect(await ready()).toMatchObject({
      statusCode: 503, body: { status: 'unavailable', checks: { postgres: { ok: true }, redis: { ok: false, detail: expect.stringMatching(/^control queue: failed \(the API log has the error\)$/) as unknown } } },
    })
  }
  await control.connect()
  expect((await ready()).statusCode).toBe(200)
  expect((await ready()).statusCode).toBe(200)
  const readiness = entries().filter((entry) => entry.msg.startsWith('readiness check'))
  expect(readiness.map((entry) => `${entry.msg} ${String(entry.dependency)}`)).toEqual(['readiness check failed redis (control queue)', 'readiness check passes again redis (control queue)'])
})

it('asks each of its connections: both queues\'', () => {
  expect(deps!.redisProbes.map((probe) => probe.name).sort()).toEqual(['control queue', 'submit queue'])
})
