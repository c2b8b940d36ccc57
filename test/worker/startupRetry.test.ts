/**
 * A worker starting while Postgres drops its connection: a start-up step (the
 * reconciliation, run before any work is taken; the schedule sync) fails, and
 * the worker must wait it out and start, not give up (a process that exits on
 * a blip stays down without a supervisor). Deterministic: the table the step
 * reads is locked so the step waits on it, then its backend is terminated.
 */
import pg from 'pg'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { RunningWorker } from '../../src/worker.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'
import { expectTakesWork } from './support/takesWork.js'

let h: Harness
beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

it('retries the start-up reconciliation after its connection was dropped, then starts and takes work', async () => {
  // The reconciliation's read waits on the lock; its backend is ended, as a Postgres restart would.
  await expectTakesWork(h, await (await startWhileTableDrops('sessions')).starting)
}, 60_000)

it('retries the start-up schedule sync after its connection was dropped, then starts and takes work', async () => {
  await expectTakesWork(h, await (await startWhileTableDrops('schedules')).starting)
}, 60_000)

it('a start stopped while its reconciliation fails rejects without retrying, its Redis connections closed', async () => {
  const queuePrefix = `deputy-test-stopped-start-${Date.now()}`
  const stop = new AbortController()
  const admin = new pg.Client({ connectionString: h.databaseUrl })
  const redis = new Redis(REDIS_URL)
  await admin.connect()
  try {
    await admin.query('begin')
    await admin.query('lock table sessions in access exclusive mode')
    const starting = h.startWorker({ queuePrefix, startupSignal: stop.signal }).then((v) => v, (e: unknown) => e)
    const waiting = await eventually(async () => {
      const { rows: found } = await admin.query<{ pid: number }>("select pid from pg_locks where relation = 'sessions'::regclass and not granted")
      return found.length > 0 && found
    }, 20_000)
    // The queues' connections, named after the prefix, are opened before the reconciliation (their
    // handshakes may finish after its read reached the lock, on a loaded machine).
    await eventually(async () => (await connectionsNamed(redis, queuePrefix)) > 0, 20_000)
    stop.abort(new Error('stopped while starting'))
    await admin.query('select pg_terminate_backend(pid, 5000) from unnest($1::int[]) as pid', [waiting.map((row) => row.pid)])
    await admin.query('rollback')
    const started = await starting
    expect(started).toBeInstanceOf(Error)
    expect(await connectionsNamed(redis, queuePrefix)).toBe(0)
  } finally {
    await admin.end()
    redis.disconnect()
  }
}, 60_000)

async function connectionsNamed(redis: Redis, prefix: string): Promise<number> {
  const list = (await redis.client('LIST')) as string
  return list.split('\n').filter((line) => line.includes(` name=${prefix}:`)).length
}

/**
 * Starts a worker while `table` is locked (from a connection of its own), ends the backend that
 * waits for it (as a Postgres restart would), then unlocks. Answers the starting worker (wrapped: it is still starting).
 */
async function startWhileTableDrops(table: string): Promise<{ starting: Promise<RunningWorker> }> {
  const admin = new pg.Client({ connectionString: h.databaseUrl })
  await admin.connect()
  try {
    await admin.query('begin')
    await admin.query(`lock table ${table} in access exclusive mode`)
    const starting = h.startWorker()
    starting.catch(() => undefined)
    // Until the step waits for the table (pg_stat_activity may still show the previous statement while
    // a new one waits for its lock in parse analysis, so pg_locks tells who waits for what).
    const waiting = await eventually(async () => {
      const { rows: found } = await admin.query<{ pid: number }>('select pid from pg_locks where relation = $1::regclass and not granted', [table])
      return found.length > 0 && found
    }, 20_000)
    await admin.query('select pg_terminate_backend(pid, 5000) from unnest($1::int[]) as pid', [waiting.map((row) => row.pid)])
    await admin.query('rollback')
    return { starting }
  } finally {
    await admin.end()
  }
}
