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
  // Each run that took the row calls addBulk once, which fails after the command timeout. The spy
  // tells when an add is on its way: a run is then under way, waiting for Redis.
  const addBulk = queue.addBulk.bind(queue)
  let adding: () => void = () => undefined
  const adds = vi.spyOn(queue, 'addBulk').mockImplementation((jobs) => {
    adding()
    return addBulk(jobs)
  })
  /** Resolves once the next add is on its way (in the same tick as the call: it is still waiting for Redis). */
  const nextAdd = () => new Promise<void>((resolve) => { adding = resolve })
  await redis.close() // Redis down
  const stopping = new AbortController()
  const relayer = startOutboxRelay({ db, queue, log: pino({ level: 'silent' }), intervalMs: 10, stopping: stopping.signal })
  try {
    // Three runs waited out the timeout: the poll ticked some sixty times meanwhile.
    await eventually(async () => adds.mock.calls.length >= 3)
    // While a run waits for Redis, every further call to relay (as each poll tick makes) answers
    // the one run queued behind it; a relay that queued a run per call would answer a new one each time.
    await nextAdd()
    const queued = relayer.relay()
    expect(relayer.relay()).toBe(queued)
    expect(relayer.settled()).toBe(queued)
    // Stopped while the next run's add is on its way, with a run queued behind it (as the next poll
    // tick would queue one): the run under way ends with its failed add, and the queued one does not start.
    await nextAdd()
    void relayer.relay()
  } finally {
    stopping.abort()
    await relayer.stop()
  }
  const atStop = adds.mock.calls.length
  await relayer.settled()
  // The run queued behind the one waiting would have taken the row again (put back to pending by the
  // failed add) and called addBulk once more.
  expect(adds.mock.calls.length).toBe(atStop)
  expect((await db.select({ status: outbox.status }).from(outbox)).map((row) => row.status)).toEqual(['pending'])
}, 60_000)
