/**
 * Redis drops the worker's connections mid-run (a restart, a failover, a
 * proxy's idle timeout) while orders are in flight. Only this file's
 * connections are cut: the worker names every connection after the queue
 * prefix, which is unique to this file, and other files share the server.
 * The worker must reconnect on its own and every order be placed once.
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, it } from 'vitest'
import type { RunningWorker } from '../../src/worker.js'
import { REDIS_URL, createHarness, type Harness } from './support/harness.js'
import { dropWhileInFlight } from './support/dropWhileInFlight.js'

let h: Harness
let worker: RunningWorker
let admin: Redis

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ concurrency: 4 })
  admin = new Redis(REDIS_URL)
})
afterAll(async () => {
  admin?.disconnect()
  await h?.close()
})

/** Closes every Redis connection of this file's worker (named after its prefix); answers how many. */
async function dropConnections(): Promise<number> {
  const list = String(await admin.client('LIST'))
  const ids = list.split('\n').filter((line) => line.includes(` name=${h.queuePrefix}:`)).map((line) => /\bid=(\d+)/.exec(line)![1]!)
  for (const id of ids) await admin.client('KILL', 'ID', id)
  return ids.length
}

// The two queues' connections and the two BullMQ workers' (each with its blocking duplicate): at least 4.
it('reconnects after Redis dropped its connections while orders were in flight; each order placed once', () => dropWhileInFlight(h, worker, dropConnections, 4), 60_000)
