/**
 * How far ahead a request (a submission, a revocation, a live-probe request, an authenticated read)
 * sets its deadline: `preferredMs`, but never past half the operator's `maxDeadlineMs`
 * (PROTOCOL.md §2), which refuses a deadline further ahead. Short, so a stale request dies.
 */
export function shortDeadlineMs(maxDeadlineMs: number | undefined, preferredMs: number): number {
  return maxDeadlineMs === undefined ? preferredMs : Math.min(preferredMs, Math.floor(maxDeadlineMs / 2))
}
