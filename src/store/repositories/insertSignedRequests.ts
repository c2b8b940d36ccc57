import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import type { NewRequestRow, RequestRow } from '../schema/index.js'
import { namedStatement } from '../namedStatement.js'

export type SignedRequestInput = Pick<NewRequestRow, 'walletId' | 'sessionId' | 'orderId' | 'outboxId' | 'family' | 'nonce' | 'deadline' | 'body'>

/**
 * Persists freshly signed requests (status `signed`) in one statement and
 * answers their rows, in the order given (ids are made here). The rows travel as one JSON
 * parameter (`jsonb_to_recordset`): building drizzle's multi-row insert cost
 * more CPU per request than the statement itself, and every order is one request.
 *
 * The kill switch: a placement or a modification of an order (cancels go through) whose wallet is halted is not
 * persisted, and answered `undefined` (its work is then settled by its claim, which finds the
 * halt). The claim checked the wallet, but a halt may commit between the claim and this
 * statement: it cancels only the orders still pending, and answers the user that the wallet is
 * halted, so work persisted after it would be signed and sent after the halt. This statement takes
 * the wallets' advisory locks shared before it reads which are halted (`deputy_halted_wallets`,
 * migration 0030: a halt holds its wallet's exclusively, `lockWalletToHalt`, so the read waits for a
 * halt under way and sees it, and a halt waits for the statements under way; a row lock on the
 * wallet did the same at 7–15% more worker CPU per order in the throughput bench, and made intake
 * and these inserts wait for each other): work persisted before a halt is on the wire at the halt (`haltStillOnTheWire`,
 * `queueLateCancels`), work after it is never persisted.
 */
export async function insertSignedRequests(db: Db, rows: readonly SignedRequestInput[]): Promise<(RequestRow | undefined)[]> {
  if (rows.length === 0) return []
  const ids = rows.map(() => randomUUID())
  const values = rows.map((row, i) => ({ ...row, id: ids[i], nonce: String(row.nonce) }))
  const { rows: inserted } = await insertSigned(db, { values: JSON.stringify(values) })
  if (inserted.length === 0) return rows.map(() => undefined)
  // created_at is the transaction's time, the same for every row; the rest are the table's
  // defaults for a row just inserted (status signed, nothing received yet).
  const createdAt = new Date(inserted[0]!.created_at)
  const persisted = new Set(inserted.map((row) => row.id))
  return rows.map((row, i) => !persisted.has(ids[i]!) ? undefined : ({
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

const insertSigned = namedStatement<{ id: string; created_at: Date | string }, { values: string }>('deputy_insert_signed_requests', () => sql`
  with v as materialized (
    select * from jsonb_to_recordset(${sql.placeholder('values')}::jsonb)
      as v(id uuid, "walletId" uuid, "sessionId" uuid, "orderId" uuid, "outboxId" uuid, family text, nonce bigint, deadline bigint, body text)
  ), halted as materialized (
    select unnest(deputy_halted_wallets(array(
      select distinct v."walletId" from v where v.family in ('Order', 'ModifyOrder') and v."orderId" is not null))) as id
  )
  insert into requests (id, wallet_id, session_id, order_id, outbox_id, family, nonce, deadline, body)
  select v.id, v."walletId", v."sessionId", v."orderId", v."outboxId", v.family, v.nonce, v.deadline, v.body
  from v
  where not (v.family in ('Order', 'ModifyOrder') and v."orderId" is not null
    and v."walletId" in (select id from halted))
  returning id, created_at`)
