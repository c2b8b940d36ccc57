/**
 * A worker pointed at a Redis that may evict keys (`maxmemory-policy` other than noeviction) refuses
 * to start: under memory pressure such a Redis deletes a queued job's key or list entry, and the
 * outbox sweep, which re-enqueues a row only when its job is gone, could still find the job's key
 * while its list entry is gone: an order silently never sent. It started, BullMQ printing a warning
 * to stderr. Now the worker takes no job, releases what it opened (its event streams' leases) and
 * the process exits 2 with one line naming REDIS_URL and the rule, as for any bad setting. Redis
 * here is a redis-server of the file's own, started with allkeys-lru (the shared one is left alone).
 */
import { isNotNull } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ConfigError } from '../../src/core/errors/ConfigError.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { streamCursors } from '../../src/store/schema/index.js'
import { privateRedis } from '../support/privateRedis.js'
import { runToExit } from '../support/runToExit.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let evicting: Awaited<ReturnType<typeof privateRedis>>
beforeAll(async () => {
  h = await createHarness()
  evicting = await privateRedis(['--maxmemory-policy', 'allkeys-lru'])
})
afterAll(async () => {
  await h?.close()
  await evicting?.stop()
})

it('the worker refuses to start on a Redis whose maxmemory-policy is not noeviction, having taken no work and holding no lease', async () => {
  const w = await h.wallet()
  const { order } = await placeLimitOrder(h.db, await h.markets(), { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date())
  const starting = h.startWorker({ redisUrl: evicting.url })
  await expect(starting).rejects.toThrow(ConfigError)
  await expect(starting).rejects.toThrow(/^REDIS_URL: Redis's maxmemory-policy is allkeys-lru; it must be noeviction/)
  // Nothing was sent: the order waits in the outbox for a worker on a Redis that keeps its jobs.
  expect((await rows(h.db).order(order.id)).state).toBe('pending')
  expect((await rows(h.db).outboxOf(order.id)).map((row) => row.status)).toEqual(['pending'])
  expect(operatorOrder(h.sandbox, w.signer.address, order.clientOrderId)).toBeUndefined()
  // Its event streams (started before Redis was read) hold no wallet's lease: another process takes it at once.
  await eventually(async () => (await h.db.select().from(streamCursors).where(isNotNull(streamCursors.leaseOwner))).length === 0)
}, 60_000)

it('the worker process exits 2 with one configuration line naming REDIS_URL and the rule', async () => {
  const env: Record<string, string | undefined> = {
    ...process.env, DATABASE_URL: h.databaseUrl, REDIS_URL: evicting.url, QUEUE_PREFIX: h.queuePrefix, OPERATOR_URL: h.sandbox.url,
    DEPUTY_MASTER_KEY: h.masterKey, LOG_LEVEL: 'info',
  }
  for (const key of ['WALLET_SIGNER', 'PRIVY_APP_ID', 'PRIVY_APP_SECRET', 'PRIVY_AUTHORIZATION_KEYS']) delete env[key]
  const { code, stdout, stderr } = await runToExit(['--import', 'tsx', 'src/main/worker.ts'], env, 40_000)
  const lines = stderr.split('\n').filter((line) => line.startsWith('deputy: configuration:'))
  expect({ code, lines }).toEqual({ code: 2, lines: [expect.stringMatching(/^deputy: configuration: REDIS_URL: Redis's maxmemory-policy is allkeys-lru; it must be noeviction/)] })
  expect(stdout).not.toContain('worker started')
}, 60_000)
