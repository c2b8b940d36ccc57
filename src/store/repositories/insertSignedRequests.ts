import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import type { NewRequestRow, RequestRow } from '../schema/index.js'
import { executeNamed } from '../executeNamed.js'

export type SignedRequestInput = Pick<NewRequestRow, 'walletId' | 'sessionId' | 'orderId' | 'outboxId' | 'family' | 'nonce' | 'deadline' | 'body'>

/**
 * Persists freshly signed requests (status `signed`) in one statement and
 * answers their rows, in the order given (ids are made here). The rows travel as one JSON
 * parameter (`jsonb_to_recordset`): building drizzle's multi-row insert cost
 * more CPU per request than the statement itself, and every order is one request.
 */
export async function insertSignedRequests(db: Db, rows: readonly SignedRequestInput[]): Promise<RequestRow[]> {
  if (rows.length === 0) return []
  const ids = rows.map(() => randomUUID())
  const values = rows.map((row, i) => ({ ...row, id: ids[i], nonce: String(row.nonce) }))
  const { rows: inserted } = await executeNamed<{ created_at: Date | string }>(db, 'deputy_insert_signed_requests', sql`
    insert into requests (id, wallet_id, session_id, order_id, outbox_id, family, nonce, deadline, body)
    select v.id, v."walletId", v."sessionId", v."orderId", v."outboxId", v.family, v.nonce, v.deadline, v.body
    from jsonb_to_recordset(${JSON.stringify(values)}::jsonb)
      as v(id uuid, "walletId" uuid, "sessionId" uuid, "orderId" uuid, "outboxId" uuid, family text, nonce bigint, deadline bigint, body text)
    returning created_at`)
  if (inserted.length !== rows.length) throw new Error(`insertSignedRequests: ${inserted.length} rows inserted for ${rows.length}`)
  // created_at is the transaction's time, the same for every row; the rest are the table's
  // defaults for a row just inserted (status signed, nothing received yet).
  const createdAt = new Date(inserted[0]!.created_at)
  return rows.map((row, i) => ({
    id: ids[i]!,
    walletId: row.walletId,
    sessionId: row.sessionId,
    orderId: row.orderId ?? null,
    outboxId: row.outboxId ?? null,
    family: row.family,
    nonce: BigInt(row.nonce),
    deadline: Number(row.deadline),
    body: row.body,
    status: 'signed',
    receipt: null,
    duplicate: false,
    errorCode: null,
    errorMessage: null,
    createdAt,
    sentAt: null,
    completedAt: null,
  }))
}
