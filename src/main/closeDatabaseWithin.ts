import type { Logger } from 'pino'
import type { Database } from '../store/Database.js'

/**
 * Closes the store, waiting `ms` at most: a Postgres pool closes once its connections in use are
 * released and its connects answered, which a server that took them and stopped answering holds
 * until their timeouts (DATABASE_QUERY_TIMEOUT_MS and 1 s), past a stopping process's deadline.
 * Answers whether it closed in time; if not, it says so, and the process's exit drops the connections
 * (Postgres rolls back what they had open).
 */
export async function closeDatabaseWithin(database: Database, log: Logger, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const closed = database.close().then(() => true, (error: unknown) => {
    log.warn({ err: error }, 'database close failed')
    return true
  })
  const late = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  try {
    const inTime = await Promise.race([closed, late])
    if (!inTime) log.warn({ waitedMs: ms }, 'database connections did not close in time; dropping them at exit')
    return inTime
  } finally {
    clearTimeout(timer)
  }
}
