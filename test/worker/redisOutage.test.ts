/**
 * A worker started while Redis cannot be reached (not up yet, a failover) waits for it, as it
 * waits for Postgres and the operator, and says so without flooding: BullMQ's queues and workers
 * report every failed reconnect, several a second, and a queue with no listener prints each one to
 * stderr. Each part's failure is logged once (`throttledErrorLog`); once Redis answers, the worker
 * reads its eviction policy, starts its BullMQ workers and takes work. The API's queues are quiet the same way.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { startApiServer } from '../../src/api/startApiServer.js'
import { loadConfig } from '../../src/config.js'
import { capturedLog } from '../support/capturedLog.js'
import { lateRelay } from '../support/lateRelay.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'
import { expectTakesWork } from './support/takesWork.js'

let h: Harness
let redis: Awaited<ReturnType<typeof lateRelay>>
beforeAll(async () => {
  h = await createHarness()
  redis = await lateRelay(REDIS_URL)
})
afterAll(async () => {
  await h?.close()
  await redis?.close()
})

it('a worker started while Redis is unreachable logs each failing part once, prints nothing to stderr, and takes work once Redis answers', async () => {
  const { log, entries } = capturedLog()
  const printed = vi.spyOn(console, 'error')
  const messages = () => entries().map((line) => line.msg)
  const starting = h.startWorker({ redisUrl: redis.url, log })
  starting.catch(() => undefined)
  // The queues fail from the start. The BullMQ workers are not started before Redis answers: they
  // wait behind the read of its eviction policy, which waits for Redis.
  await eventually(async () => ['submit queue error', 'control queue error'].every((msg) => messages().includes(msg)), 15_000)
  // Several more reconnect attempts each (ioredis retries every 50 ms to 2 s).
  await sleep(3_000)
  const logged = messages()
  expect(logged.filter((msg) => msg.endsWith(' error')).sort()).toEqual(['control queue error', 'submit queue error'])
  expect(printed).not.toHaveBeenCalled()
  printed.mockRestore()

  await redis.open()
  const worker = await starting
  await expectTakesWork(h, worker)
}, 60_000)

// Port 9 (discard) refuses connections here: a Redis that never comes.
it("the API's queues log a Redis that cannot be reached once each, and print nothing to stderr", async () => {
  const { log, entries } = capturedLog()
  const printed = vi.spyOn(console, 'error')
  const config = loadConfig({
    DATABASE_URL: h.databaseUrl, REDIS_URL: 'redis://127.0.0.1:9', QUEUE_PREFIX: h.queuePrefix, OPERATOR_URL: h.sandbox.url,
    DEPUTY_MASTER_KEY: h.masterKey, API_PORT: '0', LOG_LEVEL: 'silent',
  })
  const server = await startApiServer(config, log)
  try {
    const messages = () => entries().map((line) => line.msg)
    await eventually(async () => messages().includes('submit queue error') && messages().includes('control queue error'), 15_000)
    await sleep(3_000)
    expect(messages().filter((msg) => msg.endsWith(' error')).sort()).toEqual(['control queue error', 'submit queue error'])
    expect(printed).not.toHaveBeenCalled()
  } finally {
    printed.mockRestore()
    await server.close()
  }
}, 60_000)
