/**
 * A worker starting while Postgres drops its connection: the start-up
 * reconciliation (run before any work is taken) fails, and the worker must
 * wait it out and start, not give up (a process that exits on a blip stays
 * down without a supervisor). Deterministic: the sessions table is locked so
 * the reconciliation waits on it, then its backend is terminated.
 */
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

let h: Harness
beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

it('retries the start-up reconciliation after its connection was dropped, then starts and takes work', async () => {
  const { wallet } = await h.wallet()
  const admin = new pg.Client({ connectionString: h.databaseUrl })
  await admin.connect()
  let starting: ReturnType<Harness['startWorker']> | undefined
  try {
    await admin.query('begin')
    await admin.query('lock table sessions in access exclusive mode')
    starting = h.startWorker()
    starting.catch(() => undefined)
    // The reconciliation's read waits on the lock; end that backend, as a Postgres restart would.
    const waiting = await eventually(async () => {
      const { rows: found } = await admin.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`)
      return found.length > 0 && found
    }, 20_000)
    await admin.query('select pg_terminate_backend(pid, 5000) from unnest($1::int[]) as pid', [waiting.map((row) => row.pid)])
    await admin.query('rollback')
  } finally {
    await admin.end()
  }
  const worker = await starting!
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date())
  const db = rows(h.db)
  await eventually(async () => (await db.order(order.id)).state === 'open', 20_000)
  expect((await db.answeredRequestsOf(order.id)).filter((r) => r.status === 'accepted').map((r) => r.family)).toEqual(['Order'])
}, 60_000)
