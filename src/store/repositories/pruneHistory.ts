import { type SQL, sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { outbox } from '../schema/index.js'
import { outboxOrderEnded } from './outboxRepo.js'

export type PruneHistoryOptions = {
  /** Rows changed before this instant may go. */
  before: Date
  /** Rows deleted per statement (default 5,000): each statement is its own short transaction. */
  batchSize?: number
  /** Statements per table in one call (default 200), so one call is bounded; the next call goes on. */
  maxBatches?: number
  /** Checked between statements: true ends the call early (shutdown). */
  stopping?: () => boolean
}

export type PrunedHistory = { events: number; outbox: number; scheduleRuns: number }

/**
 * Deletes the operational history older than `before`, which would otherwise grow without end
 * (several rows per order):
 * - `events` the wallet's stream has applied (seq at or below its cursor) received before `before`.
 *   The stream resumes from `stream_cursors`, and redelivered events at or below the cursor are
 *   dropped before they are stored, so a deleted event is never stored again. Events stored ahead
 *   of a gap still wait to be applied and are kept, whatever their age. Each statement looks at
 *   the next `batchSize` rows by id (ids follow arrival), so it never scans the whole table, and
 *   goes on past rows it keeps: kept rows at the head of the table (a stopped stream's events
 *   behind a gap) never stop the ones after them from going.
 * - `outbox` rows settled (`done`, `failed`: neither ever changes again) before `before`. Queued,
 *   enqueued and held work is kept whatever its age, but for good-till cancels not yet due whose
 *   order ended for good (filled, rejected, or cancelled for a known reason and not placed again:
 *   `outboxOrderEnded`) before `before`: queued at intake, each waits for its time only to find the
 *   order ended, and is work nobody will see settle for a year, or ever (a good-till in 9999). An
 *   order read back live after it ended (reconcile) gets a cancel of its own, queued then.
 *   `GET /v1/work/{id}` answers 404 for a deleted row; a BullMQ job that still names one (a delayed
 *   good-till job) finds no row and does nothing.
 * - `schedule_runs` that traded nothing (`scheduleRuns`): `skipped` or `awaiting_delegation`, no
 *   legs and no cancelled orders, finished before `before`, and older (by slot) than their schedule's
 *   newest run whose reason is not `repeatedWallTime`. A cron on a halted or undelegated wallet
 *   writes one per slot (1,440 a day at one a minute), for ever otherwise. Kept whatever their age:
 *   `completed`, `failed` and `running` runs, any run with a leg or a cancelled order (those are
 *   trading record), and per schedule every run at or after its newest non-`repeatedWallTime` run:
 *   `claimRun` (`planSlot`) decides the next slot from the schedule's latest slot and its latest
 *   slot of another reason, and keeping those rows keeps both, so pruning never changes which slot
 *   runs next. A job delivered again for a deleted slot still runs nothing (`alreadyRan`: its slot
 *   is before the latest run), though on a paused or deleted schedule it records that slot skipped
 *   once more. The partial index `schedule_runs_prunable_idx` finds the candidates (in no set order);
 *   each one's later run is looked up on (schedule_id, slot_at).
 * The trading record (orders, requests with their signed bytes, fills, the audit log, the schedule
 * runs above) is never deleted here. Concurrent callers (several workers) skip each other's rows.
 * Answers how many rows of each table were deleted.
 */
export async function pruneHistory(db: Db, options: PruneHistoryOptions): Promise<PrunedHistory> {
  const batch = options.batchSize ?? 5_000
  const limits = { maxBatches: options.maxBatches ?? 200, stopping: options.stopping ?? (() => false) }
  const before = options.before.toISOString()
  const events = await deleteEvents(db, limits, batch, before)
  // Settled and available before the cutoff: the available_at bound lets the (status, available_at) index find them.
  // Deleted by `id = any(array(...))`, by primary key: written as a join with the subquery, a batch
  // was planned as a hash join over a scan of the whole outbox (1,000,000 rows: 390 ms a batch of 5,000, 134 ms now).
  const settled = await deleteInBatches(db, limits, sql`
    delete from outbox where id = any(array(
      select id from outbox
      where status in ('done', 'failed') and available_at < ${before}::timestamptz and updated_at < ${before}::timestamptz
      limit ${batch} for update skip locked
    ))
    returning 1`)
  // Good-till cancels not yet due whose order ended for good before the cutoff: they would stay queued
  // until their time (a year, or for ever with a good-till in 9999), only to find the order ended.
  const goodTill = await deleteInBatches(db, limits, sql`
    delete from outbox where id = any(array(
      select id from outbox
      where kind = 'CancelOrder' and status in ('pending', 'enqueued') and available_at > now() and ${outboxOrderEnded}
        and ${outbox.payload}->>'reason' = 'goodTill'
        and (select o.updated_at from orders o where o.id = ${outbox.orderId}) < ${before}::timestamptz
      limit ${batch} for update skip locked
    ))
    returning 1`)
  // Runs that traded nothing, before a later run of their schedule whose reason is not
  // repeatedWallTime: the newest such run, and every run after it, is what planSlot reads, so it stays.
  // The partial index schedule_runs_prunable_idx finds the candidates (in no set order), and
  // schedule_runs_schedule_slot_unique the later run. `id = any(array(...))` deletes them by primary
  // key, as the outbox's: written as a join with the subquery, it was planned, on 432,000 runs, as a
  // hash join over a scan of the whole table, once a statement.
  const runs = await deleteInBatches(db, limits, sql`
    delete from schedule_runs where id = any(array(
      select r.id from schedule_runs r
      where r.status in ('skipped', 'awaiting_delegation') and r.legs = '[]'::jsonb and r.cancelled_order_ids = '[]'::jsonb
        and r.finished_at < ${before}::timestamptz
        and exists (
          select 1 from schedule_runs later
          where later.schedule_id = r.schedule_id and later.slot_at > r.slot_at and later.reason <> 'repeatedWallTime'
        )
      limit ${batch} for update skip locked
    ))
    returning 1`)
  return { events, outbox: settled + goodTill, scheduleRuns: runs }
}

/**
 * Deletes the applied events received before `before`, `batch` rows by id at a time from the
 * oldest, until a window holds no row received before `before` (ids follow arrival), the table
 * ends, `maxBatches` windows were looked at, or `stopping()`; answers the rows deleted.
 */
async function deleteEvents(db: Db, limits: { maxBatches: number; stopping: () => boolean }, batch: number, before: string): Promise<number> {
  let total = 0
  let afterId = 0
  for (let i = 0; i < limits.maxBatches && !limits.stopping(); i++) {
    const { rows } = await db.execute<{ n: number; last: string | number | null; old: number }>(sql`
      with scanned as (
        select id, wallet_id, seq, received_at from events where id > ${afterId} order by id limit ${batch} for update skip locked
      ), deleted as (
        delete from events e using scanned w join stream_cursors c on c.wallet_id = w.wallet_id
        where e.id = w.id and w.received_at < ${before}::timestamptz and w.seq <= c.last_seq
        returning 1
      )
      select (select count(*)::int from deleted) as n, (select max(id) from scanned) as last,
        (select count(*)::int from scanned where received_at < ${before}::timestamptz) as old`)
    const row = rows[0]
    total += Number(row?.n ?? 0)
    if (row?.last == null || Number(row.old) === 0) break
    afterId = Number(row.last)
  }
  return total
}

/** Runs `deletion` until it deletes nothing, has run `maxBatches` times, or `stopping()`; answers the rows deleted. */
async function deleteInBatches(db: Db, limits: { maxBatches: number; stopping: () => boolean }, deletion: SQL): Promise<number> {
  let total = 0
  for (let i = 0; i < limits.maxBatches && !limits.stopping(); i++) {
    const { rows } = await db.execute<{ n: number }>(sql`with deleted as (${deletion}) select count(*)::int as n from deleted`)
    const n = Number(rows[0]?.n ?? 0)
    if (n === 0) break
    total += n
  }
  return total
}
