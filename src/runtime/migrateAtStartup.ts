import type { Logger } from 'pino'
import type { Database } from '../store/Database.js'
import { isConnectionFailure } from '../store/isConnectionFailure.js'
import { type MigrateOptions, migrate } from '../store/migrate.js'
import { retryUntilDone } from './retryUntilDone.js'

/**
 * `migrate` for a process starting up (the worker, the API): a Postgres that cannot be reached yet,
 * or that drops the connection mid-way (a restart, a failover), is waited for, with the doubling
 * delay of `retryUntilDone` and each failure logged. Pending migrations run in one transaction, so
 * a dropped one left nothing behind and is simply run again. A migration Postgres refuses, or a
 * missing migrations folder, fails the start at once. Aborted (`signal`: the process told to stop
 * while it starts), the wait ends, for Postgres or for another process's migration (`migrate`), and
 * no further try is made.
 */
export async function migrateAtStartup(database: Database, log: Logger, options: MigrateOptions = {}): Promise<void> {
  await retryUntilDone(() => migrate(database, options), {
    signal: options.signal,
    retryable: isConnectionFailure,
    onFailure: (error, retryInMs) => log.warn({ err: error, retryInMs }, 'migrations could not reach Postgres at start-up; retrying before taking work'),
  })
}
