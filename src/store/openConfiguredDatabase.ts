import type { Logger } from 'pino'
import type { Config } from '../config.js'
import type { Database } from './Database.js'
import { openDatabase } from './openDatabase.js'

/**
 * The store of a long-running process (the worker, the API): the configured
 * Postgres (or PGlite) with the configured statement timeout, its pooled
 * connections' failures and installation faults logged as warnings.
 */
export function openConfiguredDatabase(config: Config, log: Logger): Promise<Database> {
  return openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.PGLITE_DIR,
    queryTimeoutMs: config.DATABASE_QUERY_TIMEOUT_MS,
    onPoolError: (error) => log.warn({ err: error }, 'database connection failed (the pool replaces it)'),
    warn: (message) => log.warn(message),
  })
}
