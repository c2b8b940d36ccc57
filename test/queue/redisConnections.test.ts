/**
 * `redisConnections` against a Redis that hangs (takes the connection, then never answers), as
 * opposed to one that is down: nothing ever fails on its own, so every wait needs its own end.
 */
import { randomUUID } from 'node:crypto'
import { Queue, Worker } from 'bullmq'
import { afterAll, afterEach, expect, it } from 'vitest'
import { createRedis } from '../../src/queue/connection.js'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { redisConnections } from '../../src/queue/redisConnections.js'
import { freezingRelay } from '../support/freezingRelay.js'
import { REDIS_URL, eventually } from '../worker/support/harness.js'

let relay: Awaited<ReturnType<typeof freezingRelay>> | undefined
const prefix = `deputy-test-${randomUUID().slice(0, 8)}`
afterEach(async () => { await relay?.close() })
afterAll(async () => { await deleteQueueKeys(REDIS_URL, prefix) })

it('closeAll ends connections whose Redis stopped answering, instead of waiting for their QUIT for ever', async () => {
  relay = await freezingRelay(REDIS_URL)
  const redis = redisConnections(relay.url, 'deputy-test:hung-close')
  const connections = [redis.open(), redis.open()]
  await eventually(async () => connections.every((c) => c.status === 'ready'), 5_000)
  relay.freeze()
  const startedAt = Date.now()
  const closed = await Promise.race([redis.closeAll().then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 8_000))])
  expect(closed).toBe(true)
  expect(Date.now() - startedAt).toBeLessThan(4_000)
  // Disconnected: ioredis destroys a socket the server does not close within its disconnect timeout (2 s).
  await eventually(async () => connections.every((c) => c.status === 'end'), 5_000)
}, 20_000)

it("a queue's commands fail after the command timeout once its Redis stops answering, instead of waiting for ever", async () => {
  relay = await freezingRelay(REDIS_URL)
  const redis = redisConnections(relay.url, 'deputy-test:hung-queue', { commandTimeoutMs: 500 })
  const queue = redis.queue((connection) => new Queue('hung', { connection, prefix }))
  queue.on('error', () => undefined)
  try {
    await queue.waitUntilReady()
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 0 })
    relay.freeze()
    const startedAt = Date.now()
    await expect(queue.getJobCounts('waiting')).rejects.toThrow('Command timed out')
    await expect(queue.add('job', {})).rejects.toThrow('Command timed out')
    expect(Date.now() - startedAt).toBeLessThan(3_000)
  } finally {
    await queue.close()
    await redis.closeAll()
  }
}, 20_000)

it('a queue whose Redis stalls right after connecting (before the queue has read its version) works once Redis answers', async () => {
  relay = await freezingRelay(REDIS_URL)
  const redis = redisConnections(relay.url, 'deputy-test:stalled-start', { commandTimeoutMs: 300 })
  // Frozen as soon as the connection is ready: BullMQ's own start-up read (INFO) is held.
  const queue = redis.queue((connection) => {
    connection.once('ready', () => relay?.freeze())
    return new Queue('stalled', { connection, prefix })
  })
  queue.on('error', () => undefined)
  try {
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    relay.thaw()
    // A timeout on that start-up read would have failed the queue for good (BullMQ does not start it again).
    expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 0 })
  } finally {
    await queue.close()
    await redis.closeAll()
  }
}, 20_000)

it("a Worker idle past the socket timeout keeps its connections: its longest wait for jobs (10 s) is answered within it", async () => {
  const name = `${prefix}:idle`
  const redis = redisConnections(REDIS_URL, name, { socketTimeoutMs: 15_000 })
  const queue = redis.queue((connection) => new Queue('idle', { connection, prefix }))
  // A job due in two minutes: the worker then blocks for BullMQ's longest wait (10 s), not 5 s.
  await queue.add('later', {}, { delay: 120_000 })
  const errors: Error[] = []
  const worker = new Worker('idle', async () => undefined, { connection: redis.open(), prefix })
  worker.on('error', (error) => errors.push(error))
  const lister = createRedis(REDIS_URL)
  // The process's connections (its name, and BullMQ's `<prefix>:<queue>` for a worker's), by id.
  const ids = async () => (await lister.client('LIST') as string).split('\n').filter((line) => line.includes(` name=${prefix}`)).map((line) => /id=(\d+)/.exec(line)![1]).sort()
  try {
    await worker.waitUntilReady()
    await eventually(async () => (await ids()).length >= 3, 5_000)
    const before = await ids()
    // Two of its waits and more than the timeout: one wait longer than it would have ended a connection.
    await new Promise((resolve) => setTimeout(resolve, 21_000))
    expect(await ids()).toEqual(before)
    expect(errors).toEqual([])
  } finally {
    lister.disconnect()
    await worker.close()
    await queue.close()
    await redis.closeAll()
  }
}, 45_000)
