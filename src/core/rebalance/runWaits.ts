/**
 * How long a schedule run waits, in one place: the run (`jobs/runSchedule.ts`), the claim that
 * takes a lost run over, and the SCHEDULE_MIN_INTERVAL_SECONDS setting all hold to them.
 */

/**
 * Longest a run waits for earlier runs' orders to settle, counted from its start; and, when its buys
 * need its sells' proceeds, for those sells to fill, counted from their placement (`sellsPlacedAt`),
 * which a slow or retried first stage puts late in the run, before it places its buys.
 */
export const SETTLE_TIMEOUT_MS = 30_000

/**
 * A `running` run untouched this long lost its job and is taken over. Well past SETTLE_TIMEOUT_MS:
 * a run that waits is touched at each of its job's polls (every 250 ms), so a live one never goes
 * this long untouched unless its worker is down.
 */
export const STALE_RUN_MS = 120_000

/**
 * The least SCHEDULE_MIN_INTERVAL_SECONDS: twice the settle wait. A run started on time whose earlier
 * orders settle at once places its last legs up to SETTLE_TIMEOUT_MS after its slot, later when its
 * job starts late, its operator reads are slow, or it first waited for earlier orders (its sells' wait
 * counts from their placement: up to twice SETTLE_TIMEOUT_MS in all); the next slot's run cancels them
 * as earlier runs' working orders. With slots closer than this those legs can go out when the next
 * slot is due, to be cancelled at once.
 */
export const LEAST_SCHEDULE_INTERVAL_SECONDS = (2 * SETTLE_TIMEOUT_MS) / 1000
export const LEAST_SCHEDULE_INTERVAL_RULE = `must be at least ${LEAST_SCHEDULE_INTERVAL_SECONDS} (twice the ${SETTLE_TIMEOUT_MS / 1000} s a run may wait for earlier runs' orders and its own sells before it places its last legs): with slots closer, those legs can go out when the next slot is due, whose run cancels them at once`

/**
 * SCHEDULE_MAX_LATENESS_MS's default: a run whose slot came due longer ago than this when its job
 * starts (the worker or Redis was down, the queue held up) is skipped, reason `late`, rather than
 * trade on a plan made for another moment. Well past a job's usual delays (its retries, about 15 s;
 * a lost run's takeover, STALE_RUN_MS), short of "hours late".
 */
export const DEFAULT_MAX_LATENESS_MS = 10 * 60_000
/** The least non-zero SCHEDULE_MAX_LATENESS_MS: under a minute, a run delayed only by its retries and a busy queue would be skipped. */
export const LEAST_MAX_LATENESS_MS = 60_000

/** A duration as `3h0m12s` (`12m5s`, `40s`), for run details. */
export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`
}
