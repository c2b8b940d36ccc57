import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type { Schema } from './schema/index.js'

/**
 * A drizzle handle over Deputy's schema: a pg pool, PGlite, or a transaction
 * (a drizzle transaction is itself a `PgDatabase`), so repositories take one
 * type and compose inside or outside a transaction.
 */
export type Db = PgDatabase<PgQueryResultHKT, Schema>
