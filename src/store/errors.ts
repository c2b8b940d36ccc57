import { BaseError } from '../core/errors/BaseError.js'

/** Start-up could not bring the schema up to date; the worker must not run on it. */
export class MigrationError extends BaseError {
  override name = 'MigrationError'
  constructor(details: string, cause?: unknown) {
    super('Database migration failed', {
      code: 'STORE.MIGRATION_FAILED',
      retryable: false,
      hint: 'the database is reachable and `migrations/` ships beside package.json (npm run db:generate)',
      details,
      cause,
    })
  }
}

/** Embedded PGlite's data directory is open in another process (or already in this one). */
export class DataDirLockedError extends BaseError {
  override name = 'DataDirLockedError'
  constructor(dataDir: string, lockPath: string, holderPid: number) {
    super(`PGLITE_DIR ${dataDir} is already open in process ${Number.isNaN(holderPid) ? '(unknown)' : holderPid}: embedded PGlite allows one process`, {
      code: 'STORE.DATA_DIR_LOCKED',
      retryable: false,
      hint: `run the worker and the API on Postgres (DATABASE_URL) to run them side by side, or stop the other process; delete ${lockPath} only if no process uses the directory`,
    })
  }
}

/**
 * Postgres took a new connection and did not answer its handshake within the connect timeout (a
 * paused server, a network path that drops packets, a proxy in front of a database that is down).
 * node-postgres says only 'Connection terminated due to connection timeout', or 'timeout expired',
 * and names neither the server nor the wait; its error is the cause.
 */
export class PostgresUnansweredError extends BaseError {
  override name = 'PostgresUnansweredError'
  constructor(timeoutMs: number, cause: unknown) {
    super(`Postgres did not answer a new connection within ${timeoutMs} ms`, {
      code: 'STORE.POSTGRES_UNANSWERED',
      retryable: true,
      hint: 'the Postgres server is up and answering, and the network path or proxy to it (DATABASE_URL); the wait is DATABASE_QUERY_TIMEOUT_MS plus 1 s',
      cause,
    })
  }
}
