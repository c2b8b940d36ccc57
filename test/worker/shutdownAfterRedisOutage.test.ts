/**
 * Shutdown after Redis went away and came back: the worker's Redis clients are between two
 * reconnect attempts when it is stopped. BullMQ's close disconnects each worker's blocking
 * connection and waits for it to end, which ioredis never signals for a client disconnected
 * between attempts; its forced close answers the same promise. The worker must still close,
 * and the daemon exit 0 on SIGTERM, not run into its deadline.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { lateRelay } from '../support/lateRelay.js'
import { REDIS_URL, createHarness, type Harness } from './support/harness.js'
import { spawnWorkerProcess } from './support/workerProcess.js'

let h: Harness
let redis: Awaited<ReturnType<typeof lateRelay>>

beforeAll(async () => {
  h = await createHarness()
  redis = await lateRelay(REDIS_URL)
  await redis.open()
})
afterAll(async () => {
  await redis?.open()
  await h?.close()
  await redis?.close()
})

/** Takes Redis away long enough for the clients to fail several reconnects, then gives it back. */
async function outage(): Promise<void> {
  await redis.close()
  await sleep(3_000)
  await redis.open()
}

it('close() finishes after a Redis outage', async () => {
  const worker = await h.startWorker({ redisUrl: redis.url, streams: false })
  await outage()
  await worker.close(1_000)
}, 30_000)

it('the daemon stopped after a Redis outage exits 0', async () => {
  const child = await spawnWorkerProcess(h, { REDIS_URL: redis.url, SHUTDOWN_TIMEOUT_MS: '1000' })
  await outage()
  expect(await child.stop(), child.errors.join('\n')).toBe(0)
}, 60_000)

it('the daemon stopped while Redis is still down exits 0', async () => {
  const child = await spawnWorkerProcess(h, { REDIS_URL: redis.url, SHUTDOWN_TIMEOUT_MS: '1000' })
  await redis.close()
  try {
    await sleep(1_000)
    expect(await child.stop(), child.errors.join('\n')).toBe(0)
  } finally {
    await redis.open()
  }
}, 60_000)
