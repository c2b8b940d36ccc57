/**
 * The outbox relay's loop (`startOutboxRelay`) while Redis is down and work is pending: each run
 * takes the rows and waits for Redis until its command times out (REDIS_COMMAND_TIMEOUT_MS), while
 * the poll fires every RELAY_INTERVAL_MS. The poll queued a run on each tick behind the one
 * waiting, without bound (10 a second at the defaults: memory growing for as long as the outage
 * lasted), and a stop then waited for every one of them, each waiting out the timeout again: a
 * worker stopped during the outage always ran into its shutdown timeout. At most one run waits
 * behind the one under way, and none starts once the worker is stopping.
 */
import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'
import { pino } from 'pino'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import type { SubmitJobData } from '../../src/queue/payloads.js'
import { redisConnections } from '../../src/queue/redisConnections.js'
import { startOutboxRelay } from '../../src/runtime/startOutboxRelay.js'
import { ensureWallet } from '../../src/runtime/wallets.js'
import { outbox } from '../../src/store/schema/index.js'
import { createTestDatabase, type TestDatabase } from '../support/database.js'
import { lateRelay } from '../support/lateRelay.js'
import { REDIS_URL, eventually } from './support/harness.js'

const prefix = `deputy-test-relay-outage-${randomUUID().slice(0, 8)}`
let t: TestDatabase
let redis: Awaited<ReturnType<typeof lateRelay>>
let connections: ReturnType<typeof redisConnections>
let queue: Queue<SubmitJobData>
beforeAll(async () => {
  t = await createTestDatabase()
  redis = await lateRelay(REDIS_URL)
  await redis.open()
  connections = redisConnections(redis.url, 'deputy-test-relay-outage', { commandTimeoutMs: 200 })
  queue = connections.queue((connection) => new Queue<SubmitJobData>('submit', { connection, prefix }))
  // Its connection's refusals while Redis is down, which BullMQ would print.
  queue.on('error', () => undefined)
  await queue.waitUntilReady()
})
afterAll(async () => {
  await connections?.closeAll()
  await redis?.close()
  await deleteQueueKeys(REDIS_URL, prefix)
  await t?.drop()
})

it('queues at most one run behind the one waiting for Redis, and starts none once stopped', async () => {
  const db = t.database.db
  const wallet = await ensureWallet(db, '0x000000000000000000000000000000000000dEaD')
  await db.insert(outbox).values({ walletId: wallet.id, kind: 'CancelAll', payload: { market: '' } })
  // Each run that took the row calls addBulk once, which fails after the command timeout.
  const adds = vi.spyOn(queue, 'addBulk')
  await redis.close() // Redis down
  const stopping = new AbortController()
  const relayer = startOutboxRelay({ db, queue, log: pino({ level: 'silent' }), intervalMs: 10, stopping: stopping.signal })
  try {
    // Three runs waited out the timeout: the poll ticked some sixty times meanwhile.
    await eventually(async () => adds.mock.calls.length >= 3)
  } finally {
    stopping.abort()
    await relayer.stop()
  }
  const atStop = adds.mock.calls.length
  await relayer.settled()
  // The run under way may yet reach its add; nothing queued behind it runs.
  expect(adds.mock.calls.length - atStop).toBeLessThanOrEqual(1)
}, 60_000)
