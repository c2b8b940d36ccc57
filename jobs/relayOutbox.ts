/**
 * Loop step: relay outbox rows to BullMQ, and sweep rows whose job vanished.
 * - Payload: none (runs on a short interval in every worker, and right after intake).
 * - Reads: outbox rows `pending` and due (taken by one update of the rows `FOR UPDATE SKIP LOCKED`,
 *   so several workers share the work); for the sweep, rows `enqueued` for a while, and whether their job still exists in Redis
 *   and has not failed for good.
 * - Writes: BullMQ jobs (job id = outbox id + dispatch generation, delayed until the row is due on
 *   Postgres's clock, which dates it, never this process's; prioritized by its place in its wallet's
 *   backlog, kept in `outbox.priority` for the sweep), outbox → `enqueued`; a failed
 *   job of an `enqueued` row is moved back to waiting with its attempts reset.
 * - Errors and retries: a failed add puts the rows back to `pending`; the next tick retries. A
 *   crash after the rows were taken and before their jobs were added leaves them `enqueued`
 *   without a job: the sweep adds them (after `olderThanMs`). Adding a job that already exists is a
 *   no-op in BullMQ, so adding twice is harmless.
 * - Idempotency key: the BullMQ job id.
 */
import type { Job, Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import { and, asc, eq, getTableColumns, gt, inArray, lte, sql } from 'drizzle-orm'
import type { SubmitJobData } from '../src/queue/payloads.js'
import { submitJobOptions } from '../src/queue/jobOptions.js'
import type { Db } from '../src/store/Database.js'
import { namedStatement } from '../src/store/namedStatement.js'
import { outboxDueInMs, outboxJobId } from '../src/store/repositories/outboxRepo.js'
import { type OutboxRow, outbox } from '../src/store/schema/index.js'
import { tableRows } from '../src/store/tableRows.js'

/** Rows due within this horizon are relayed now, as BullMQ delayed jobs (good-till cancels). */
export const DELAYED_HORIZON_MS = 24 * 3600 * 1000

/** What a job is made of, with how long until its row is due (`outboxDueInMs`, read with the row). */
const relayed = tableRows(outbox, ['id', 'seq', 'generation', 'walletId', 'kind', 'orderId', 'priority'])
type RelayedRow = ReturnType<typeof relayed.read> & { dueInMs: number }

function toJob(row: RelayedRow) {
  const data: SubmitJobData = { outboxId: row.id, walletId: row.walletId, family: row.kind, ...(row.orderId ? { orderId: row.orderId } : {}) }
  const delay = row.dueInMs
  const opts = { ...submitJobOptions, jobId: outboxJobId(row), ...(delay > 0 ? { delay } : {}), ...(row.priority ? { priority: row.priority } : {}) }
  return { name: row.kind, data, opts }
}

/** BullMQ's highest priority number (the lowest priority): a deeper backlog's rows all take it, in seq order. */
export const PRIORITY_LIMIT = 2_097_151

/**
 * Takes up to `batch` due rows in seq order (`enqueued`) and gives each its BullMQ priority: its
 * place in its wallet's backlog, in seq order through the batch, counting on from the wallet's last
 * row so numbered while that row is still enqueued (its backlog not drained;
 * `outbox_wallet_prioritized_idx`, read once per wallet), from 1 otherwise. BullMQ takes lower
 * numbers first, so a wallet's first request waits behind other wallets' first requests, not behind
 * a thousand queued by one wallet, and a wallet's own requests keep their order. (BullMQ takes a
 * wallet's jobs in their numbers' order, so once its last one has run, the ones before it have too:
 * a job delayed for a retry aside.) Every job has a number: BullMQ runs a job without one before any
 * job with one, and a job that waits for an earlier one (a cancel for its order's placement), delayed
 * and run again every 250 ms, would then always run first, and could keep the job it waits for from
 * ever running (the drill found it: cancels of orders whose placements a SIGKILL interrupted). A row
 * relayed before it is due (a good-till cancel, as a delayed job) takes 1 and is not counted: due
 * hours later, it goes first then. Two relays counting from the same base at once give equal
 * numbers, which BullMQ takes in the order added.
 */
const takeDue = namedStatement<Record<string, unknown>, { batch: number }>('deputy_relay_outbox', () => sql`
  with taken as materialized (
    select id as taken_id, wallet_id as taken_wallet, available_at <= now() as counted, seq as taken_seq
    from outbox
    where status = 'pending' and available_at <= now() + make_interval(secs => ${DELAYED_HORIZON_MS / 1000})
    order by seq limit ${sql.placeholder('batch')} for update skip locked
  ), bases as materialized (
    select w.taken_wallet as base_wallet, coalesce((
      select case when e.status = 'enqueued' then e.priority end from outbox e
      where e.wallet_id = w.taken_wallet and e.priority is not null and e.available_at <= e.enqueued_at
      order by e.seq desc limit 1), 0) as base
    from (select distinct taken_wallet from taken where counted) w
  ), ranked as materialized (
    select array_agg(taken_id) as ids, array_agg(priority) as priorities from (
      select taken_id, case when counted then least(${PRIORITY_LIMIT},
               base + row_number() over (partition by taken_wallet, counted order by taken_seq)) else 1 end as priority
      from taken left join bases on base_wallet = taken_wallet) r
  )
  -- The rows by their primary key (= any(array)), each priority looked up in the array beside it: no
  -- join to the outbox for the planner to choose, which with the table's statistics stale (a new or
  -- fast-growing outbox) was a scan of the whole outbox per relay, or per row.
  update outbox set status = 'enqueued', enqueued_at = now(), updated_at = now(),
    priority = (select priorities[array_position(ids, outbox.id)] from ranked)
  where outbox.id = any((select ids from ranked)::uuid[])
  returning ${relayed.list}, ${outboxDueInMs} as due_in_ms`)

/** Rows taken by one relay step; a full batch means more may be waiting. */
export const RELAY_BATCH = 500

/**
 * Moves `pending` rows due now (or within the horizon, delayed) to BullMQ. Answers how many were relayed.
 * One statement takes the rows (`enqueued`) before their jobs are added, so an idle tick costs one
 * statement; if the add fails the rows go back to `pending`, and if the process dies in between,
 * the sweep finds `enqueued` rows without a job and adds them.
 */
export async function relayOutbox(db: Db, queue: Queue<SubmitJobData>, batch = RELAY_BATCH): Promise<number> {
  // Named (prepared once per connection): the hottest statement of an idle worker, and of every
  // intake commit; hand-written and compiled once, so that nothing is built per run and only what a job needs is read back.
  const { rows: raw } = await takeDue(db, { batch })
  const rows = raw.map((row) => ({ ...relayed.read(row), dueInMs: Number(row.due_in_ms) }))
  if (rows.length === 0) return 0
  rows.sort((a, b) => a.seq - b.seq)
  try {
    await queue.addBulk(rows.map(toJob))
  } catch (error) {
    await db.update(outbox).set({ status: 'pending' }).where(and(inArray(outbox.id, rows.map((r) => r.id)), eq(outbox.status, 'enqueued')))
    throw error
  }
  return rows.length
}

/** Where the sweep goes on from at its next run (`sweepOutbox`): the seq after which it has not looked yet. */
export type SweepCursor = { afterSeq: number }

/**
 * Re-enqueues `enqueued` rows whose job is gone from Redis (flushed, restarted
 * without persistence), and runs again the jobs that used up their attempts
 * (an outage longer than the backoff): the row still owes that work, and a
 * cancel must not wait for the failed job to age out; `onUsedUp` hears of each of those (work that
 * has not gone out for minutes), with the failed job's last error. Answers how many.
 *
 * Looks at up to `maxPages` pages of `batch` rows per run, in seq order, from `cursor` (kept by the
 * caller between runs; it starts over once it reaches the last row): a run always starting from
 * the oldest rows never reached the rows past the first page, and thousands of good-till cancels
 * wait `enqueued` for up to a day. One Redis round trip checks a whole page.
 */
export type SweepOutboxOptions = {
  /** Rows enqueued at least this long ago (5 s): younger ones' jobs may still be on their way. */
  olderThanMs?: number
  batch?: number
  cursor?: SweepCursor
  maxPages?: number
  onUsedUp?: (row: OutboxRow, lastFailure: string | undefined) => void
}

export async function sweepOutbox(db: Db, queue: Queue<SubmitJobData>, options: SweepOutboxOptions = {}): Promise<number> {
  const { olderThanMs = 5_000, batch = 1_000, cursor = { afterSeq: 0 }, maxPages = 5, onUsedUp } = options
  let repaired = 0
  for (let page = 0; page < maxPages; page++) {
    const rows = await db.select({ ...getTableColumns(outbox), dueInMs: outboxDueInMs }).from(outbox)
      .where(and(eq(outbox.status, 'enqueued'), gt(outbox.seq, cursor.afterSeq), lte(outbox.enqueuedAt, sql`now() - make_interval(secs => ${olderThanMs / 1000})`)))
      .orderBy(asc(outbox.seq)).limit(batch)
    repaired += await repairJobs(queue, rows, onUsedUp)
    if (rows.length < batch) {
      cursor.afterSeq = 0
      break
    }
    cursor.afterSeq = rows[rows.length - 1]!.seq
  }
  return repaired
}

/** The rows' jobs that are gone are added again, and the ones failed for good are retried. */
async function repairJobs(queue: Queue<SubmitJobData>, rows: readonly (OutboxRow & { dueInMs: number })[], onUsedUp?: SweepOutboxOptions['onUsedUp']): Promise<number> {
  if (rows.length === 0) return 0
  // BullMQ's Redis backend runs on ioredis; its own type for the client lists only what BullMQ uses.
  const client = (await queue.backend.client) as unknown as Redis
  const pipeline = client.pipeline()
  const failedKey = queue.toKey('failed')
  for (const row of rows) {
    const jobId = outboxJobId(row)
    pipeline.exists(queue.toKey(jobId))
    pipeline.zscore(failedKey, jobId)
  }
  const answers = (await pipeline.exec()) ?? []
  const answer = (i: number): unknown => {
    const [error, value] = answers[i] ?? [new Error('no answer from Redis')]
    if (error) throw error
    return value
  }
  const missing: (OutboxRow & { dueInMs: number })[] = []
  let retried = 0
  for (const [i, row] of rows.entries()) {
    if (answer(2 * i) === 0) missing.push(row)
    else if (answer(2 * i + 1) !== null) {
      // Another worker's sweep may retry it first; then it is no longer failed and this throws.
      const job = await queue.getJob(outboxJobId(row))
      const again = job ? await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }).then(() => 1, () => 0) : 0
      if (again) onUsedUp?.(row, job ? lastFailure(job) : undefined)
      retried += again
    }
  }
  if (missing.length) await queue.addBulk(missing.map(toJob))
  return missing.length + retried
}

/**
 * A failed job's last error, in one line. The jobs here that used up their attempts came back from
 * BullMQ 6.7 without `failedReason`; the stack trace it stores for each failure begins with the error's
 * name and message.
 */
function lastFailure(job: Job<SubmitJobData>): string | undefined {
  const reason = job.failedReason || job.stacktrace?.at(-1)?.split('\n', 1)[0]
  return reason ? reason.slice(0, 300) : undefined
}
