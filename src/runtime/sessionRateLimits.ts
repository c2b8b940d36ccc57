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

export function createSessionRateLimits(now: () => number): SessionRateLimits {
  const until = new Map<string, number>()
  return {
    pause(sessionId, ms) {
      const end = now() + Math.max(0, ms)
      if (end > (until.get(sessionId) ?? 0)) until.set(sessionId, end)
    },
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
