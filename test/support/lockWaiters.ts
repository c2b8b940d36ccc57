import pg from 'pg'

/** How many sessions of the client's database wait on a lock (a statement blocked behind another transaction). */
export async function lockWaiters(client: pg.Client): Promise<number> {
  const { rows } = await client.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)
  return rows[0].n as number
}

/**
 * Runs `body` with two connections of their own to the database: `blocker`, whose transaction the
 * test holds open to make others wait, and `waiters()`, how many sessions wait on a lock (read on the
 * other, so the count is seen while `blocker` holds). Both are closed after, `blocker`'s transaction
 * rolled back if the test left it open.
 */
export async function withBlocker<T>(databaseUrl: string, body: (held: { blocker: pg.Client; waiters: () => Promise<number> }) => Promise<T>): Promise<T> {
  const blocker = new pg.Client({ connectionString: databaseUrl })
  const watcher = new pg.Client({ connectionString: databaseUrl })
  await blocker.connect()
  await watcher.connect()
  try {
    return await body({ blocker, waiters: () => lockWaiters(watcher) })
  } finally {
    await blocker.query('rollback').catch(() => undefined)
    await blocker.end().catch(() => undefined)
    await watcher.end().catch(() => undefined)
  }
}
