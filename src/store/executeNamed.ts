import { type SQL, fillPlaceholders } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import pg from 'pg'
import type { Db, QueryRows } from './Database.js'

const dialect = new PgDialect()

/** A statement's text and its parameters, compiled by drizzle (`sqlToQuery`). */
export type CompiledStatement = { sql: string; params: unknown[] }

/** Compiles drizzle SQL for `runNamed` (the text, and the parameters in order; placeholders left in place). */
export function compileStatement(query: SQL): CompiledStatement {
  return dialect.sqlToQuery(query)
}

/**
 * `db.execute(query)` as a named statement, for hot statements whose text never
 * changes (every value a parameter). node-postgres prepares it once per
 * connection, so Postgres parses it once, and once a generic plan costs about
 * what planning each call does it stops planning it at all; a batched claim
 * spent longer in the planner than running. The statement must return named
 * columns, never `*`, so that a migration adding a column cannot change a
 * prepared result type under a running worker. PGlite ignores the name.
 *
 * On node-postgres the statement goes straight to the driver (the pool, or the
 * transaction's client that drizzle holds), without drizzle's prepared-query
 * wrapper built per call: ~119 instead of ~134 µs of client CPU per call, against
 * ~87 for a bare `pool.query` (micro-benchmark). Results are the
 * driver's: numerics and bigints as strings, timestamps as Date (drizzle's
 * `execute` gives timestamps as strings), so read a timestamp as `Date | string`.
 * The query is compiled on every call: a statement on the hot path is a
 * `namedStatement`, compiled once.
 */
export function executeNamed<Row>(db: Db, name: string, query: SQL): Promise<QueryRows<Row>> {
  return runNamed<Row>(db, name, compileStatement(query))
}

/** Runs a compiled statement under its name, its placeholders (if any) filled from `values`. */
export function runNamed<Row>(db: Db, name: string, compiled: CompiledStatement, values: Record<string, unknown> = {}): Promise<QueryRows<Row>> {
  const client = (db._.session as unknown as { client?: unknown }).client
  if (client instanceof pg.Pool || client instanceof pg.Client) {
    return client.query({ name, text: compiled.sql, values: fillPlaceholders(compiled.params, values) }) as unknown as Promise<QueryRows<Row>>
  }
  return db._.session.prepareQuery<{ execute: QueryRows<Row>; all: unknown; values: unknown }>(compiled, undefined, name, false).execute(values)
}
