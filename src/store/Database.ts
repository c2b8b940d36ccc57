import type { PGlite } from '@electric-sql/pglite'
import type { ExtractTablesWithRelations } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core'
import type { Pool } from 'pg'
import type { Schema } from './schema/index.js'

/**
 * What `db.execute()` returns with either driver: both node-postgres and PGlite
 * results carry `rows`, and repositories need nothing else from raw SQL.
 */
export interface StoreQueryResultHKT extends PgQueryResultHKT {
  type: QueryRows<this['row']>
}
export type QueryRows<Row> = { rows: Row[] }

/**
 * The drizzle handle repositories use. It is the driver-neutral base type, so
 * one repository runs on node-postgres and on PGlite alike. A transaction
 * (`db.transaction(async (tx) => …)`) is assignable to it as well.
 */
export type Db = PgDatabase<StoreQueryResultHKT, Schema>

export type Tx = PgTransaction<StoreQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>

type Common = {
  db: Db
  /** Ends the pool or closes PGlite. Safe to call more than once. */
  close(): Promise<void>
}

/**
 * An open store. `pg` is a node-postgres pool (shareable by any number of
 * worker processes); `pglite` is embedded Postgres in this process, which owns
 * its data directory alone: one connection, one process.
 */
export type Database =
  | (Common & { kind: 'pg'; pool: Pool })
  | (Common & { kind: 'pglite'; client: PGlite })
