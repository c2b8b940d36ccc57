/** The longest wait between two of the reconciler's cancels of one order refused in a row. */
export const CANCEL_RETRY_MAX_MS = 60 * 60_000

/**
 * How long after the last of `failures` failed attempts in a row the reconciler queues its cancel
 * of an order the operator still lists open again (`retryReconcilerCancels`): the sweep interval
 * after the first, doubling with each further one, up to `maxMs` (an hour). Each attempt is a
 * stored outbox row and a signed request, which an operator that refuses every one (an ACL
 * violation) would otherwise get at every sweep.
 */
export function cancelRetryDelayMs(failures: number, intervalMs: number, maxMs = CANCEL_RETRY_MAX_MS): number {
  if (!Number.isInteger(failures) || failures < 1) throw new RangeError(`failures must be a positive integer, got ${failures}`)
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new RangeError(`intervalMs must be a non-negative number, got ${intervalMs}`)
  // Capped before the power grows past what a double holds exactly.
  return Math.min(maxMs, intervalMs * 2 ** Math.min(failures - 1, 30))
}
