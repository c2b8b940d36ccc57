import { sql } from 'drizzle-orm'
import type { Db } from '../../src/store/Database.js'

/**
 * When the transaction that wrote audit entry `auditId` began, to the microsecond (its `at` is
 * now(), the transaction's start): two entries with the same one were written in one transaction,
 * savepoints included, since one written after the other's commit begins later. Their `at` read into
 * a JavaScript Date (milliseconds) cannot tell. (Their xmin cannot either: a savepoint writes with
 * an id of its own.)
 */
export async function transactionStartOf(db: Db, auditId: number): Promise<string> {
  const { rows } = await db.execute<{ began: string }>(sql`select to_char(at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') as began from audit_log where id = ${auditId}`)
  if (!rows[0]) throw new Error(`no audit entry ${auditId}`)
  return rows[0].began
}
