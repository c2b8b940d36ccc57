type Bucket = { tokens: number; at: number }

/** A token bucket per session key: `burst` requests at once, refilled at `perSecond`. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>()

  constructor(private readonly limit: { perSecond: number; burst: number } | false) {}

  /**
   * Whether `key` may send a request now. Returns 0 when a token was taken,
   * otherwise the whole seconds to wait (the `Retry-After` value, at least 1).
   */
  take(key: string, now: number): number {
    const limit = this.limit
    if (!limit) return 0
    let bucket = this.buckets.get(key)
    if (!bucket) this.buckets.set(key, (bucket = { tokens: limit.burst, at: now }))
    bucket.tokens = Math.min(limit.burst, bucket.tokens + (Math.max(0, now - bucket.at) * limit.perSecond) / 1000)
    bucket.at = now
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond))
  }
}
