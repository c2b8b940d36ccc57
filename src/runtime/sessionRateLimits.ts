/**
 * The operator rate-limits each session key on its own (`RateLimited`, 429 with
 * Retry-After). After a 429 this process sends nothing more under that session
 * until Retry-After has passed; every other session keeps sending. In memory,
 * per process: another worker process learns of the limit from its own first 429.
 */
export type SessionRateLimits = {
  /** The operator answered RateLimited for this session: hold its sends for `ms`. */
  pause(sessionId: string, ms: number): void
  /** Milliseconds until this session may send again; 0 when it may now. */
  waitMs(sessionId: string): number
}

/** Kept limits past which a pause first drops the ones that have passed. */
export const PRUNE_ABOVE = 1_000

/** `size`: the limits kept now, passed ones included until pruned. */
export function createSessionRateLimits(now: () => number): SessionRateLimits & { size(): number } {
  const until = new Map<string, number>()
  return {
    /** Passed limits go when asked about (`waitMs`); the ones never asked about again (a session rotated out, a CancelAll's) when the map grows. */
    pause(sessionId, ms) {
      const at = now()
      if (until.size >= PRUNE_ABOVE) for (const [id, end] of until) if (end <= at) until.delete(id)
      const end = at + Math.max(0, ms)
      if (end > (until.get(sessionId) ?? 0)) until.set(sessionId, end)
    },
    size: () => until.size,
    waitMs(sessionId) {
      const end = until.get(sessionId)
      if (end === undefined) return 0
      const left = end - now()
      if (left > 0) return left
      until.delete(sessionId)
      return 0
    },
  }
}
