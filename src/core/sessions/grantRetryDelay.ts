/** Failures counted: those of the last hour. */
export const GRANT_FAILURE_WINDOW_MS = 60 * 60_000
/** The wait after the second failure in the window; it doubles with each further one. */
export const GRANT_RETRY_BASE_MS = 30_000
/** The longest wait between two automatic grants. */
export const GRANT_RETRY_MAX_MS = 15 * 60_000

/**
 * How long after a wallet's latest session failure the next automatic grant waits, given how many
 * of its sessions failed within the window (`GRANT_FAILURE_WINDOW_MS`). The first failure is
 * replaced at once (a session the operator refused is the common case: its replacement works);
 * from the second on the wait is `baseMs`, doubling, up to `maxMs`.
 */
export function grantRetryDelayMs(failures: number, baseMs = GRANT_RETRY_BASE_MS, maxMs = GRANT_RETRY_MAX_MS): number {
  if (!Number.isInteger(failures) || failures < 0) throw new RangeError(`failures must be a non-negative integer, got ${failures}`)
  if (failures < 2) return 0
  // Capped before the power grows past what a double holds exactly.
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 2, 30))
}

/**
 * When the next automatic grant may run (epoch ms), given the failures within the window and when
 * the latest was: at once (0) before the second failure.
 */
export function grantRetryAt(failures: number, latestMs: number | undefined, baseMs = GRANT_RETRY_BASE_MS): number {
  return (latestMs ?? 0) + grantRetryDelayMs(failures, baseMs)
}
