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
