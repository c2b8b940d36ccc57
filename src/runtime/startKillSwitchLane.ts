import { sql } from 'drizzle-orm'
import { submitCancelAllSpec } from '../../jobs/submitCancelAll.js'
import type { WorkerDeps } from './deps.js'
import { type JobControl, runSubmission } from './submission/runSubmission.js'
import { throttledErrorLog } from './throttledErrorLog.js'

export type KillSwitchLaneOptions = {
  /** How long a kill switch's CancelAll is left to its BullMQ job before this lane sends it. */
  graceMs?: number
  /** How often the lane looks. */
  intervalMs?: number
}

/** The lane sends a kill switch its job has not sent within this long. */
export const KILL_SWITCH_GRACE_MS = 2_000
/** Rows the lane takes per look; a halt writes one. */
const BATCH = 50
/** Retry delays of a row whose send failed (the operator down): doubling from this, up to 5 s. */
const FIRST_RETRY_MS = 250

/** `runSubmission` asked to be run again later (a rate limit): this lane tries again then. */
class Deferred extends Error {
  constructor(readonly ms: number) { super(`deferred ${ms} ms`) }
}
const deferring: JobControl = { delay: async (ms) => { throw new Deferred(ms) } }

/**
 * The kill switch does not depend on Redis. A halt writes its CancelAll to the outbox, and the
 * relay hands it to BullMQ like any work; but while Redis is down (its commands wait for it) or
 * the submit queue is backed up, that job would not run, and every open order of the wallet
 * would stay live at the operator. So every worker also looks every `intervalMs` for kill-switch
 * CancelAlls its job has not finished within `graceMs`, and runs them here, through the same
 * recipe as the job (`runSubmission`: one open request per outbox row, the signed bytes
 * persisted before they are sent). A job that runs the same row at the same moment, or later,
 * sends the same bytes (the operator answers a duplicate) or finds the row done.
 *
 * Only the CancelAlls of a halt (the kill switch, and a suspected compromise when its own
 * immediate send failed): a halt cancels the wallet's unsent placements in the same transaction,
 * so nothing queued before it can be placed after it. A CancelAll asked for on a trading wallet
 * waits its turn behind the wallet's earlier orders, in the queue.
 */
export function startKillSwitchLane(deps: WorkerDeps, options: KillSwitchLaneOptions = {}): { close(): Promise<void> } {
  const graceMs = options.graceMs ?? KILL_SWITCH_GRACE_MS
  const failed = throttledErrorLog(deps.log, 'kill switch direct send failed; retrying')
  const lookFailed = throttledErrorLog(deps.log, 'kill switch lane look failed')
  /** Rows this lane failed to send, and when it may try each again. */
  const retries = new Map<string, { failures: number; notBefore: number }>()
  const announced = new Set<string>()

  const runOne = async (outboxId: string) => {
    const retry = retries.get(outboxId)
    if (retry && retry.notBefore > deps.now()) return
    if (!announced.has(outboxId)) {
      announced.add(outboxId)
      deps.log.warn({ outboxId, graceMs }, 'kill switch not sent by its job in time (Redis down, or the queue backed up): sending it directly')
    }
    try {
      const result = await runSubmission(deps, outboxId, submitCancelAllSpec, deferring)
      retries.delete(outboxId)
      deps.log.info({ outboxId, result }, 'kill switch sent directly')
    } catch (error) {
      const failures = (retry?.failures ?? 0) + 1
      const waitMs = error instanceof Deferred ? error.ms : Math.min(5_000, FIRST_RETRY_MS * 2 ** (failures - 1))
      retries.set(outboxId, { failures, notBefore: deps.now() + waitMs })
      if (!(error instanceof Deferred)) failed(error, { outboxId })
    }
  }

  const look = async () => {
    const { rows } = await deps.db.execute<{ id: string }>(sql`
      select id from outbox
      where kind = 'CancelAll' and status in ('pending', 'enqueued') and payload->>'reason' in ('killSwitch', 'compromise')
        and available_at <= now() - make_interval(secs => ${graceMs / 1000})
      order by seq limit ${BATCH}`)
    const due = new Set(rows.map((row) => row.id))
    // Forget the rows that are finished (here or by their job).
    for (const id of retries.keys()) if (!due.has(id)) retries.delete(id)
    for (const id of announced) if (!due.has(id)) announced.delete(id)
    for (const id of due) await runOne(id)
  }

  let running: Promise<void> | undefined
  const timer = setInterval(() => {
    running ??= look().catch(lookFailed).finally(() => { running = undefined })
  }, options.intervalMs ?? 500)
  return {
    async close() {
      clearInterval(timer)
      await running
    },
  }
}
