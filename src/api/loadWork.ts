import { asc, inArray } from 'drizzle-orm'
import type { Db } from '../store/Database.js'
import { type OutboxRow, requests } from '../store/schema/index.js'
import { presentWork } from './present.js'

/** Outbox rows as the API shows them, each with the requests signed for it (oldest first). */
export async function loadWork(db: Db, rows: readonly OutboxRow[]) {
  if (rows.length === 0) return []
  const signed = await db.select().from(requests).where(inArray(requests.outboxId, rows.map((row) => row.id))).orderBy(asc(requests.createdAt), asc(requests.nonce))
  return rows.map((row) => presentWork(row, signed.filter((r) => r.outboxId === row.id)))
}
