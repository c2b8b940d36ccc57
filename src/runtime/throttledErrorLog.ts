import type { Logger } from 'pino'

/** How long the same failure stays quiet after it was logged. */
export const ERROR_LOG_WINDOW_MS = 30_000

/**
 * An `error` listener for a component that reports one failure over and over while a dependency
 * is down: BullMQ's queues and workers report every failed reconnect to Redis, several a second.
 * The first time a failure is seen (by its code and message) it is logged at once; its repeats in
 * the next `windowMs` are only counted, and the count (`repeats`) goes out with the line logged
 * once the window has passed. A different failure is logged at once.
 */
export function throttledErrorLog(log: Logger, msg: string, windowMs = ERROR_LOG_WINDOW_MS, now: () => number = Date.now): (error: unknown) => void {
  const seen = new Map<string, { at: number; repeats: number }>()
  return (error) => {
    const key = error instanceof Error ? `${String((error as { code?: unknown }).code ?? '')} ${error.message}` : String(error)
    const at = now()
    const last = seen.get(key)
    if (last && at - last.at < windowMs) {
      last.repeats++
      return
    }
    // Failures whose messages carry ids could be endless: forget them all rather than grow.
    if (!last && seen.size >= 100) seen.clear()
    seen.set(key, { at, repeats: 0 })
    log.error({ err: error, ...(last?.repeats ? { repeats: last.repeats } : {}) }, msg)
  }
}
