import { type SQL, sql } from 'drizzle-orm'
import { type AnyPgColumn, bigint, numeric, smallint, timestamp } from 'drizzle-orm/pg-core'

/*
 * Column shapes shared by the tables. Kept here so every table spells money,
 * time and sequence numbers the same way.
 */

/**
 * A decimal amount (price, size, fee) as an exact string. 78 digits with 18
 * decimals holds every 18-decimal fixed-point uint256 the protocol can carry.
 * Postgres pads the scale on the way out: '2000.5' reads back as
 * '2000.500000000000000000' (core's `parseAmount` accepts both).
 */
export function amount<N extends string>(name: N) {
  return numeric(name, { precision: 78, scale: 18, mode: 'string' })
}

/** A uint64 carried as an exact decimal string (delegation nonces). */
export function uint64String<N extends string>(name: N) {
  return numeric(name, { precision: 20, scale: 0, mode: 'string' })
}

/**
 * A per-wallet event sequence number. The operator counts up by one per wallet
 * from 1, so a JavaScript number stays exact for any realistic lifetime.
 */
export function sequence<N extends string>(name: N) {
  return bigint(name, { mode: 'number' })
}

/** 0 buy, 1 sell (PROTOCOL.md §4). */
export function side<N extends string>(name: N) {
  return smallint(name).$type<0 | 1>()
}

/** 0 GTC, 1 IOC, 2 POST_ONLY (PROTOCOL.md §4). */
export function timeInForce<N extends string>(name: N) {
  return smallint(name).$type<0 | 1 | 2>()
}

export function timestamptz<N extends string>(name: N) {
  return timestamp(name, { withTimezone: true, mode: 'date' })
}

export function createdAt() {
  return timestamptz('created_at').notNull().defaultNow()
}

/** Refreshed by drizzle on every `update()`; raw SQL updates must set it themselves. */
export function updatedAt() {
  return timestamptz('updated_at').notNull().defaultNow().$onUpdate(() => new Date())
}

/**
 * As `updatedAt`, but refreshed with Postgres's now(), as it is first written, rather than the
 * updating process's clock: for a column another worker compares with the present (a schedule run
 * untouched for a while is taken for lost), which it must do on the same clock, Postgres's.
 */
export function updatedAtOnPostgresClock() {
  return timestamptz('updated_at').notNull().defaultNow().$onUpdate(() => sql`now()`)
}

/**
 * `column in ('a', 'b')` for CHECK constraints. DDL takes no bind parameters, so
 * the values are inlined; they come from constant tuples in the schema only.
 */
export function oneOf(column: AnyPgColumn, values: readonly (string | number)[]): SQL {
  const literals = values.map((value) => (typeof value === 'number' ? sql.raw(String(value)) : sql.raw(`'${value.replaceAll("'", "''")}'`)))
  return sql`${column} in (${sql.join(literals, sql`, `)})`
}
