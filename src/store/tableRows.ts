import { type SQL, getTableColumns, sql } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'

export type TableRows<T extends PgTable> = {
  /** Every column of the table by name, for a hand-written statement's `returning` or `select` (fixed when the module loads, never `*`). */
  list: SQL
  /** A driver row of those columns as drizzle's builders answer it (each column's own mapping: numerics as strings, timestamps as Date…). */
  read(row: Record<string, unknown>): T['$inferSelect']
}

/**
 * Whole rows from hand-written statements: for hot multi-row writes whose drizzle
 * builder was a large share of their CPU (it checks and maps every value of every
 * row), but whose callers want the table's row type.
 */
export function tableRows<T extends PgTable>(table: T): TableRows<T> {
  const columns = Object.entries(getTableColumns(table))
  return {
    list: sql.raw(columns.map(([, column]) => `"${column.name}"`).join(', ')),
    read(row) {
      const out: Record<string, unknown> = {}
      for (const [key, column] of columns) {
        const value = row[column.name]
        out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value)
      }
      return out as T['$inferSelect']
    },
  }
}
