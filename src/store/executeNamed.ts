import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import type { Db, QueryRows } from './Database.js'

const dialect = new PgDialect()

/**
 * `db.execute(query)` as a named statement, for hot statements whose text never
 * changes (every value a parameter). node-postgres prepares it once per
 * connection, so Postgres parses it once, and once a generic plan costs about
 * what planning each call does it stops planning it at all; a batched claim
 * spent longer in the planner than running. The statement must return named
 * columns, never `*`, so that a migration adding a column cannot change a
 * prepared result type under a running worker. PGlite ignores the name.
 */
export function executeNamed<Row>(db: Db, name: string, query: SQL): Promise<QueryRows<Row>> {
  return db._.session.prepareQuery<{ execute: QueryRows<Row>; all: unknown; values: unknown }>(
    dialect.sqlToQuery(query), undefined, name, false,
  ).execute()
}
