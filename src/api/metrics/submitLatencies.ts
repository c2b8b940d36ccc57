import { sql } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'

const PAGE = 5_000
const NIL_UUID = '00000000-0000-0000-0000-000000000000'
/** Reread behind the newest request seen: a transaction that signed earlier may commit later. */
const OVERLAP_MS = 30_000
/** An Order request still unanswered after this long is no longer looked for. */
const GIVE_UP_MS = 24 * 3600 * 1000
const MAX_UNANSWERED = 10_000

/**
 * What both reads answer of a request `r`: the cursor, whether it was answered and accepted, its
 * latency. It runs from its order's creation: with its intent for an order a user or a schedule
 * placed, or when a session's end placed the intent's remainder again (`replaceSessionOrder`), whose
 * intent may be days old. None for an order adopted from the operator (no intent: no intake time).
 */
const columns = sql.raw(`r.id, r.created_at, r.created_at::text as cursor_at, r.completed_at is not null as answered,
  r.status = 'accepted' as accepted, case when o.intent_id is not null then extract(epoch from (r.completed_at - o.created_at)) * 1000 end as latency_ms`)
/** The request's order. */
const orderOf = sql.raw('left join orders o on o.id = r.order_id')

type Row = { id: string; created_at: string | Date; cursor_at: string; answered: boolean; accepted: boolean; latency_ms: string | number | null }

/**
 * Hands `observe` the submit latency (order created → operator receipt persisted, in seconds) of
 * each Order accepted since the last call, once, for Orders signed since `startedAt`. A call that
 * fails part-way has observed what it read before the failure; the next call goes on.
 *
 * What a call reads is what is new, whatever the size of the history: the Order requests created
 * since the last call, wallet by wallet (`requests_wallet_created_idx`); the last 30 s of them
 * again (a transaction that signed earlier may commit later); and, by id, those that were still
 * unanswered (at most 10,000 are followed, for a day; beyond that their latency goes unobserved).
 */
export function submitLatencies(db: Db, startedAt: Date, observe: (seconds: number) => void, pageSize = PAGE): () => Promise<void> {
  let newest = startedAt.getTime()
  /** Requests of the overlap already dealt with, by id → created at. */
  const handled = new Map<string, number>()
  /** Requests seen unanswered, by id → created at. */
  const unanswered = new Map<string, number>()

  // An order without an intent (adopted from the operator) has no intake time: nothing to observe.
  const observeRow = (row: Row) => {
    if (row.accepted && row.latency_ms !== null) observe(Math.max(0, Number(row.latency_ms)) / 1000)
  }

  return async () => {
    if (unanswered.size > 0) {
      const { rows } = await db.execute<Row>(sql`
        select ${columns} from requests r ${orderOf}
        where r.id = any(${sql.param([...unanswered.keys()])}::uuid[]) and r.completed_at is not null`)
      for (const row of rows) {
        observeRow(row)
        handled.set(row.id, unanswered.get(row.id)!)
        unanswered.delete(row.id)
      }
    }
    // Paged by (created_at, id), the cursor in Postgres's own text (microseconds; a Date keeps ms).
    let cursor = { at: new Date(Math.max(startedAt.getTime(), newest - OVERLAP_MS)).toISOString(), id: NIL_UUID }
    for (;;) {
      const { rows } = await db.execute<Row>(sql`
        select ${columns} from wallets w
        cross join lateral (
          select id, created_at, completed_at, status, order_id from requests
          where wallet_id = w.id and created_at >= ${cursor.at}::timestamptz and family = 'Order'
            and (created_at, id) > (${cursor.at}::timestamptz, ${cursor.id}::uuid)
          order by created_at, id limit ${pageSize}
        ) r ${orderOf}
        order by r.created_at, r.id limit ${pageSize}`)
      for (const row of rows) {
        const createdAt = new Date(row.created_at).getTime()
        newest = Math.max(newest, createdAt)
        if (handled.has(row.id) || unanswered.has(row.id)) continue
        if (row.answered) {
          observeRow(row)
          handled.set(row.id, createdAt)
        } else if (unanswered.size < MAX_UNANSWERED) {
          unanswered.set(row.id, createdAt)
        }
      }
      if (rows.length < pageSize) break
      const last = rows[rows.length - 1]!
      cursor = { at: last.cursor_at, id: last.id }
    }
    for (const [id, createdAt] of handled) if (createdAt < newest - OVERLAP_MS) handled.delete(id)
    for (const [id, createdAt] of unanswered) if (createdAt < newest - GIVE_UP_MS) unanswered.delete(id)
  }
}
