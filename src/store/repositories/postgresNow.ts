import { sql } from 'drizzle-orm'
import type { Db } from '../Database.js'

/**
 * The present on Postgres's clock (clock_timestamp(), not the transaction's start), to the
 * millisecond, rounded down: the moment to compare a row's `updated_at` with, which Postgres writes
 * (`updatedAtOnPostgresClock`, raw SQL's now()), never this process's clock, which may differ.
 */
export async function postgresNow(db: Db): Promise<Date> {
  const { rows } = await db.execute<{ ms: number | string }>(sql`select floor(extract(epoch from clock_timestamp()) * 1000)::float8 as ms`)
  return new Date(Number(rows[0]!.ms))
}
