/**
 * The worker's health server (`WORKER_HEALTH_PORT`) over real Postgres and Redis, in this process:
 * what /healthz and /readyz answer while the worker starts, once it has started, once it stops,
 * and that it frees its port on close and refuses a port already taken.
 */
import { randomUUID } from 'node:crypto'
import { type AddressInfo, connect, createServer } from 'node:net'
import { Queue } from 'bullmq'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { createRedis } from '../../src/queue/connection.js'
import { serveHealth } from '../../src/runtime/health/serveHealth.js'
import { createWorkerHealth } from '../../src/runtime/health/workerHealth.js'
import { capturedLog } from '../support/capturedLog.js'
import { type TestDatabase, createTestDatabase } from '../support/database.js'
import { REDIS_URL } from './support/harness.js'

/** Redis answers a read of the queue's keys, on the queue's own connection. */
const pingRedis = (queue: Pick<Queue, 'getJobCounts'>) => () => queue.getJobCounts('waiting')

let testDb: TestDatabase
let queue: Queue
const prefix = `deputy-test-health-${randomUUID().slice(0, 8)}`
beforeAll(async () => {
  testDb = await createTestDatabase({ migrate: false })
  queue = new Queue('submit', { connection: createRedis(REDIS_URL), prefix })
})
afterAll(async () => {
  await queue?.close()
  await deleteQueueKeys(REDIS_URL, prefix)
  await testDb?.drop()
})

async function get(url: string, path: string, method = 'GET') {
  const response = await fetch(new URL(path, url), { method })
  return { status: response.status, body: await response.json() as unknown }
}

/** The error code of a new TCP connection to `url`'s port (fetch may reuse a kept-alive one instead). */
async function connectError(url: string): Promise<string | undefined> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1')
  return new Promise((resolve) => {
    socket.once('connect', () => { socket.destroy(); resolve(undefined) })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code))
  })
}

it('answers live and not ready while starting, ready once started with Postgres and Redis answering, neither once stopping; closed, it refuses connections', async () => {
  const { log } = capturedLog()
  const health = createWorkerHealth(log)
  const server = await serveHealth({ host: '127.0.0.1', port: 0, health, log })
  try {
    expect(await get(server.url, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } })
    expect(await get(server.url, '/readyz')).toEqual({ status: 503, body: { status: 'starting' } })

    health.started({ db: testDb.database.db, redis: [{ name: 'submit queue', probe: pingRedis(queue) }] })
    expect(await get(server.url, '/readyz')).toEqual({
      status: 200, body: { status: 'ready', checks: { postgres: { ok: true, detail: 'ok' }, redis: { ok: true, detail: 'ok' } } },
    })
    expect(await get(server.url, '/healthz?probe=1')).toEqual({ status: 200, body: { status: 'ok' } })
    expect(await get(server.url, '/metrics')).toEqual({ status: 404, body: { status: 'not found', paths: ['/healthz', '/readyz'] } })
    expect((await get(server.url, '/readyz', 'POST')).status).toBe(405)

    health.stopping()
    expect(await get(server.url, '/healthz')).toEqual({ status: 503, body: { status: 'stopping' } })
    expect(await get(server.url, '/readyz')).toEqual({ status: 503, body: { status: 'stopping' } })
    // Started after shutdown began (a start that finished as the signal came): still stopping.
    health.started({ db: testDb.database.db, redis: [{ name: 'submit queue', probe: pingRedis(queue) }] })
    expect((await get(server.url, '/readyz')).status).toBe(503)
  } finally {
    await server.close()
  }
  expect(await connectError(server.url)).toBe('ECONNREFUSED')
})

it('a readiness check still waiting for a silent Redis does not hold the server open on close', async () => {
  const { log } = capturedLog()
  const health = createWorkerHealth(log)
  const connection = createRedis('redis://127.0.0.1:9')
  connection.on('error', () => undefined)
  const closedRedis = new Queue('submit', { connection, prefix })
  closedRedis.on('error', () => undefined)
  const server = await serveHealth({ host: '127.0.0.1', port: 0, health, log })
  try {
    health.started({ db: testDb.database.db, redis: [{ name: 'submit queue', probe: pingRedis(closedRedis) }] })
    const asked = fetch(new URL('/readyz', server.url))
    asked.catch(() => undefined)
    // The request is in, waiting up to 2 s for Redis.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const closing = Date.now()
    await server.close()
    // The check has 1.7 s left to wait (2 s from the request): a close that waited for it would take that long.
    expect(Date.now() - closing).toBeLessThan(1_500)
    await expect(asked).rejects.toThrow()
  } finally {
    await closedRedis.close().catch(() => undefined)
  }
})

it('names a Redis that does not answer, and says nothing of its address', async () => {
  const { log, entries } = capturedLog()
  const health = createWorkerHealth(log)
  // Nothing listens on port 9: the queue's connection keeps retrying, and its read waits for it.
  const connection = createRedis('redis://127.0.0.1:9')
  connection.on('error', () => undefined)
  const closedRedis = new Queue('submit', { connection, prefix })
  closedRedis.on('error', () => undefined)
  const server = await serveHealth({ host: '127.0.0.1', port: 0, health, log })
  try {
    health.started({ db: testDb.database.db, redis: [{ name: 'submit queue', probe: pingRedis(closedRedis) }] })
    const answer = await get(server.url, '/readyz')
    expect(answer).toEqual({
      status: 503, body: { status: 'unavailable', checks: { postgres: { ok: true, detail: 'ok' }, redis: { ok: false, detail: 'submit queue: no answer within 2000 ms' } } },
    })
    expect(JSON.stringify(answer.body)).not.toContain('127.0.0.1')
    expect(entries().filter((entry) => entry.msg === 'readiness check failed').map((entry) => entry.dependency)).toEqual(['redis (submit queue)'])
  } finally {
    await server.close()
    await closedRedis.close().catch(() => undefined)
  }
}, 15_000)

it('refuses a port already taken with an error naming the address, and leaves nothing listening', async () => {
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  const { port } = taken.address() as AddressInfo
  const { log } = capturedLog()
  try {
    await expect(serveHealth({ host: '127.0.0.1', port, health: createWorkerHealth(log), log }))
      .rejects.toMatchObject({ code: 'EADDRINUSE', message: expect.stringContaining(`127.0.0.1:${port}`) as unknown })
  } finally {
    await new Promise((resolve) => taken.close(resolve))
  }
})

it('ten readiness probes at once cost two checks of each connection, each probe answered in full; a later probe checks again', async () => {
  const health = createWorkerHealth(capturedLog().log)
  let pings = 0
  const counted = async () => { pings++; await new Promise((resolve) => setTimeout(resolve, 50)) }
  health.started({ db: testDb.database.db, redis: [{ name: 'submit queue', probe: counted }] })
  const answers = await Promise.all(Array.from({ length: 10 }, () => health.ready()))
  expect(pings).toBe(2)
  for (const answer of answers) expect(answer).toEqual({ statusCode: 200, body: { status: 'ready', checks: { postgres: { ok: true, detail: 'ok' }, redis: { ok: true, detail: 'ok' } } } })
  await health.ready()
  expect(pings).toBe(3)
})
