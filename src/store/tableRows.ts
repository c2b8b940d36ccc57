import { type SQL, getTableColumns, sql } from 'drizzle-orm'
import type { PgTable } from 'drizzle-orm/pg-core'

export type TableRows<Row> = {
  /** The columns by name, for a hand-written statement's `returning` or `select` (fixed when the module loads, never `*`). */
  list: SQL
  /** A driver row of those columns as drizzle's builders answer it (each column's own mapping: numerics as strings, timestamps as Date…). */
  read(row: Record<string, unknown>): Row
}

/**
 * Rows from hand-written statements: for hot statements whose drizzle builder was
 * a large share of their CPU (it checks and maps every value of every row), but
 * whose callers want the table's row type. `keys` reads only those columns
 * (default: all), so a caller that needs a few does not map the rest.
 */
export function tableRows<T extends PgTable>(table: T): TableRows<T['$inferSelect']>
export function tableRows<T extends PgTable, K extends keyof T['$inferSelect'] & string>(table: T, keys: readonly K[]): TableRows<Pick<T['$inferSelect'], K>>
export function tableRows(table: PgTable, keys?: readonly string[]): TableRows<Record<string, unknown>> {
  const all = getTableColumns(table)
  const columns = (keys ?? Object.keys(all)).map((key) => [key, all[key]!] as const)
  return {
    list: sql.raw(columns.map(([, column]) => `"${column.name}"`).join(', ')),
    read(row) {
      const out: Record<string, unknown> = {}
      for (const [key, column] of columns) {
        const value = row[column.name]
        out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value)
      }
      return out
    },
  }
}
