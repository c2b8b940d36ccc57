/**
 * Postgres drops every connection mid-run (a restart, a failover, an idle
 * timeout in a proxy): statements in flight fail, idle pooled connections die,
 * the LISTEN connection goes. The worker must not crash, must reconnect, and
 * every order must still be placed once: a request whose receipt could not be
 * stored is resolved the way a lost response is.
 */
import pg from 'pg'
import { afterAll, beforeAll, it } from 'vitest'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from './support/harness.js'
import { dropWhileInFlight } from './support/dropWhileInFlight.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ concurrency: 4 })
})
afterAll(async () => { await h?.close() })

/** Ends every other connection to this file's database, from a connection of its own; answers how many. */
async function dropConnections(): Promise<number> {
  const admin = new pg.Client({ connectionString: h.databaseUrl })
  await admin.connect()
  try {
    // In the select list, not the where clause: there the planner may call it before excluding this
    // connection. With a timeout it waits until each backend has exited, so no pooled client is
    // handed out still talking to a dying backend once this returns.
    const { rows: ended } = await admin.query<{ ended: boolean }>(`
      select pg_terminate_backend(pid, 5000) as ended from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()`)
    return ended.filter((row) => row.ended).length
  } finally {
    await admin.end()
  }
}

it('survives every connection being dropped while orders are in flight; each order placed once', () => dropWhileInFlight(h, worker, dropConnections), 60_000)
