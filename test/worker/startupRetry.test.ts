/**
 * A worker starting while Postgres drops its connection: a start-up step (the
 * reconciliation, run before any work is taken; the schedule sync) fails, and
 * the worker must wait it out and start, not give up (a process that exits on
 * a blip stays down without a supervisor). Deterministic: the table the step
 * reads is locked so the step waits on it, then its backend is terminated.
 */
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

let h: Harness
beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

it('retries the start-up reconciliation after its connection was dropped, then starts and takes work', async () => {
  const { wallet } = await h.wallet()
  const admin = new pg.Client({ connectionString: h.databaseUrl })
  await admin.connect()
  let starting: Promise<RunningWorker> | undefined
  try {
    // The reconciliation's read waits on the lock; end that backend, as a Postgres restart would.
    ({ starting } = await startWhileTableDrops(admin, 'sessions'))
  } finally {
    await admin.end()
  }
  const worker = await starting!
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date())
  const db = rows(h.db)
  await eventually(async () => (await db.order(order.id)).state === 'open', 20_000)
  expect((await db.answeredRequestsOf(order.id)).filter((r) => r.status === 'accepted').map((r) => r.family)).toEqual(['Order'])
}, 60_000)

it('retries the start-up schedule sync after its connection was dropped, then starts', async () => {
  const admin = new pg.Client({ connectionString: h.databaseUrl })
  await admin.connect()
  let starting: Promise<RunningWorker> | undefined
  try {
    ({ starting } = await startWhileTableDrops(admin, 'schedules'))
  } finally {
    await admin.end()
  }
  const worker = await starting!
  expect(worker.owner).toBeTruthy()
}, 60_000)

/**
 * Starts a worker while `table` is locked, ends the backend that waits for it (as a Postgres
 * restart would), then unlocks. Answers the starting worker (wrapped: it is still starting).
 */
async function startWhileTableDrops(admin: pg.Client, table: string): Promise<{ starting: Promise<RunningWorker> }> {
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
}
