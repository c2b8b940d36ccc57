/**
 * The readiness probe of a BullMQ worker's blocking connection (`blockingProbe`), against the real
 * Redis, wired as the worker wires it (`src/worker.ts`): ready while that connection is connected,
 * without a command on it (a PING would wait behind the worker's wait for jobs); not ready, and
 * named, once Redis drops it, while every other connection still answers; ready again once ioredis
 * has opened it again, and the worker takes jobs on it.
 */
import { randomUUID } from 'node:crypto'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { blockingProbe } from '../../src/queue/blockingProbe.js'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { queueNames } from '../../src/queue/names.js'
import { redisConnections } from '../../src/queue/redisConnections.js'
import { type CheckResult, checkRedis } from '../../src/runtime/health/checkDependency.js'
import { createCheckLog } from '../../src/runtime/health/checkLog.js'
import { capturedLog } from '../support/capturedLog.js'
import { REDIS_URL, eventually } from '../worker/support/harness.js'

const prefix = `deputy-test-${randomUUID().slice(0, 8)}`
const redis = redisConnections(REDIS_URL, `${prefix}:deputy-worker`)
const admin = new Redis(REDIS_URL)
let queue: Queue
let worker: Worker
beforeAll(async () => {
  queue = redis.queue((connection) => new Queue(queueNames.submit, { connection, prefix }), 'submit queue')
  worker = new Worker(queueNames.submit, async (job) => job.data as unknown, { connection: redis.open('submit worker'), prefix })
  worker.on('error', () => undefined)
  await worker.waitUntilReady()
})
afterAll(async () => {
  // Forced: BullMQ's close, asked while the blocking connection is being reopened (a failed assertion
  // above), waits for ever.
  await worker?.close(true)
  await queue?.close()
  await redis.closeAll()
  await deleteQueueKeys(REDIS_URL, prefix)
  admin.disconnect()
})

const { log, entries } = capturedLog('info')
const checkLog = createCheckLog(log)
/** The Redis part of the worker's /readyz over this file's connections. */
const readiness = (): Promise<CheckResult> => checkRedis([...redis.probes(), blockingProbe('submit worker', worker)], checkLog, 'worker')

/**
 * The CLIENT LIST entry of the worker's blocking connection, found by its own socket's port: BullMQ
 * names that connection `<prefix>:<base64 of the queue's name>`, this file's prefix, never another
 * client's.
 */
async function blockingClientEntry(): Promise<{ id: string; name: string; flags: string }> {
  const client = await worker.backend.blockingConnection!.client
  const port = (client as unknown as Redis).stream.localPort
  const entries = String(await admin.client('LIST')).split('\n').filter(Boolean)
    .map((line) => Object.fromEntries(line.split(' ').map((field) => field.split('=', 2) as [string, string])))
  const mine = entries.filter((entry) => entry.addr === `127.0.0.1:${port}`)
  expect(mine).toHaveLength(1)
  expect(mine[0]!.name).toBe(`${prefix}:${Buffer.from(queueNames.submit).toString('base64')}`)
  return mine[0] as { id: string; name: string; flags: string }
}

it('is ready while the blocking connection is connected and waiting for jobs, sending nothing on it', async () => {
  // Blocked in its wait for jobs (BZPOPMIN): a command on it would be answered only once the wait ends.
  await eventually(async () => (await blockingClientEntry()).flags.includes('b'))
  expect(await readiness()).toEqual({ ok: true, detail: 'ok' })
})

it('is not ready once Redis drops the blocking connection, naming only it, and ready again once it is reopened and takes jobs', async () => {
  const client = (await worker.backend.blockingConnection!.client) as unknown as Redis
  const { id } = await blockingClientEntry()
  // Asked as soon as ioredis knows the connection is gone (before it reconnects: its retry timer
  // is set when it says so), as a supervisor's probe would at that moment.
  const whileDown = new Promise<CheckResult>((resolve) => client.once('reconnecting', () => resolve(readiness())))
  expect(await admin.client('KILL', 'ID', id)).toBe(1)
  expect(await whileDown).toEqual({ ok: false, detail: 'submit worker (blocking): failed (the worker log has the error)' })
  expect(entries().map((entry) => [entry.msg, entry.dependency, entry.err?.message])).toEqual([
    ['readiness check failed', 'redis (submit worker (blocking))', expect.stringMatching(/^blocking connection (reconnecting|connecting|connect)$/) as unknown],
  ])

  // ioredis opens it again on its own; ready once it has, and the worker waits for jobs on it again.
  await eventually(async () => (await readiness()).ok)
  const { id: reopened } = await blockingClientEntry()
  expect(reopened).not.toBe(id)
  expect(entries().map((entry) => [entry.msg, entry.dependency])).toEqual([
    ['readiness check failed', 'redis (submit worker (blocking))'],
    ['readiness check passes again', 'redis (submit worker (blocking))'],
  ])
  const job = await queue.add('echo', { taken: true })
  expect(await eventually(async () => (await queue.getJob(job.id!))?.returnvalue as unknown)).toEqual({ taken: true })
})
