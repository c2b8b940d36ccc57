import { sql } from 'drizzle-orm'
import { submitCancelAllSpec } from '../../jobs/submitCancelAll.js'
import { submitCancelOrderSpec } from '../../jobs/submitCancelOrder.js'
import { haltCancelAll } from '../store/repositories/outboxRepo.js'
import type { WorkerDeps } from './deps.js'
import { everyInterval } from './everyInterval.js'
import { type JobControl, runSubmission } from './submission/runSubmission.js'
import { throttledErrorLog } from './throttledErrorLog.js'

export type CancelLaneOptions = {
  /** How long a cancel is left to its BullMQ job (from when it is due) before this lane sends it. */
  graceMs?: number
  /** How often the lane looks. */
  intervalMs?: number
}

/** The lane sends a cancel its job has not sent within this long of being due. */
export const CANCEL_LANE_GRACE_MS = 2_000
/** Rows the lane takes per look. */
const BATCH = 50
/** Retry delays of a row whose send failed (the operator down): doubling from this, up to 5 s. */
const FIRST_RETRY_MS = 250

/** `runSubmission` asked to be run again later (an earlier request of the order, a rate limit). */
class Deferred extends Error {
  constructor(readonly ms: number) { super(`deferred ${ms} ms`) }
}
const deferring: JobControl = { delay: async (ms) => { throw new Deferred(ms) } }

/**
 * Cancels do not depend on Redis. A cancel (one order's, a good-till expiry, or a halt's
 * CancelAll: the kill switch) goes to the outbox, and the relay hands it to BullMQ like any
 * work; but while Redis is down (its commands wait for it) or the submit queue is backed up,
 * that job would not run and the orders would stay live at the operator. So every worker also
 * looks every `intervalMs` for cancels whose job has not finished within `graceMs` of their
 * being due, and runs them here through the same recipe as the job (`runSubmission`: a cancel
 * still waits for its order's placement, though not for a modify; one open request per outbox row; the
 * signed bytes persisted before they are sent). A job that runs the same row at the same moment,
 * or later, sends the same bytes (the operator answers a duplicate) or finds the row done.
 *
 * Of CancelAlls, only a halt's (the kill switch, and a suspected compromise when its own
 * immediate send failed): a halt cancels the wallet's unsent placements in the same
 * transaction, so nothing queued before it can be placed after it. A CancelAll asked for on a
 * trading wallet waits its turn behind the wallet's earlier orders, in the queue.
 *
 * `close()` waits for the send on the wire, if any, and starts no other.
 */
export function startCancelLane(deps: WorkerDeps, options: CancelLaneOptions = {}): { close(): Promise<void> } {
  const graceMs = options.graceMs ?? CANCEL_LANE_GRACE_MS
  const failed = throttledErrorLog(deps.log, 'cancel lane: direct send failed; retrying')
  const lookFailed = throttledErrorLog(deps.log, 'cancel lane: look failed')
  // While Redis is down every cancel goes this way: a line per 30 s with the count, not one per row.
  const overdue = throttledErrorLog(deps.log, 'cancels not sent by their jobs in time (Redis down, or the queue backed up): sending them directly', { level: 'warn' })
  /** Rows this lane could not finish, and when it may try each again. */
  const retries = new Map<string, { failures: number; notBefore: number }>()
  const announced = new Set<string>()
  // Told to stop: the send on the wire may finish, no other is started. Each send can take the
  // operator timeout (an operator that hangs), and a look's rows went one after another: the
  // worker's shutdown waited for the whole batch. What is left is sent by the next worker.
  let stopping = false

  const runOne = async (row: { id: string; kind: 'CancelOrder' | 'CancelAll' }) => {
    const retry = retries.get(row.id)
    if (retry && retry.notBefore > deps.now()) return
    if (!announced.has(row.id)) {
      announced.add(row.id)
      overdue(new Error(`overdue by ${graceMs} ms`), { outboxId: row.id, kind: row.kind })
    }
    try {
      const result = row.kind === 'CancelAll'
        ? await runSubmission(deps, row.id, submitCancelAllSpec, deferring)
        : await runSubmission(deps, row.id, submitCancelOrderSpec, deferring)
      retries.delete(row.id)
      deps.log.info({ outboxId: row.id, kind: row.kind, result }, 'cancel sent directly')
    } catch (error) {
      const failures = (retry?.failures ?? 0) + 1
      const waitMs = error instanceof Deferred ? error.ms : Math.min(5_000, FIRST_RETRY_MS * 2 ** (failures - 1))
      retries.set(row.id, { failures, notBefore: deps.now() + waitMs })
      if (!(error instanceof Deferred)) failed(error, { outboxId: row.id, kind: row.kind })
    }
  }

  const look = async () => {
    // Rows waiting for their retry (a cancel behind its order's unsent placement) are left out, so
    // they cannot fill the batch look after look; and a halt's CancelAll goes first: the kill
    // switch must not wait behind fifty cancels that cannot go out yet.
    const waiting = [...retries].filter(([, retry]) => retry.notBefore > deps.now()).map(([id]) => id)
    const { rows } = await deps.db.execute<{ id: string; kind: 'CancelOrder' | 'CancelAll' }>(sql`
      select id, kind from outbox
      where status in ('pending', 'enqueued') and available_at <= now() - make_interval(secs => ${graceMs / 1000})
        and (kind = 'CancelOrder' or ${haltCancelAll})
        and not (id = any(${sql.param(waiting)}::uuid[]))
      order by kind = 'CancelAll' desc, seq limit ${BATCH}`)
    const due = new Set(rows.map((row) => row.id))
    // Forget the rows that are finished (here or by their job): not due, and not waiting either.
    for (const [id, retry] of retries) if (!due.has(id) && retry.notBefore <= deps.now()) retries.delete(id)
    for (const id of announced) if (!due.has(id) && !retries.has(id)) announced.delete(id)
    for (const row of rows) {
      if (stopping) return
      await runOne(row)
    }
  }

  const loop = everyInterval(() => look().catch(lookFailed), options.intervalMs ?? 500)
  return {
    async close() {
      stopping = true
      await loop.close()
    },
  }
}
