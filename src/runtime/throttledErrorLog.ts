import type { Logger } from 'pino'

/** How long the same failure stays quiet after it was logged. */
export const ERROR_LOG_WINDOW_MS = 30_000

export type ThrottleOptions = {
  /** Default `error`. */
  level?: 'info' | 'warn' | 'error'
  windowMs?: number
  now?: () => number
}

/**
 * An `error` listener for parts that report one failure over and over while a dependency is down:
 * BullMQ's queues and workers report every failed reconnect to Redis, several a second; each
 * wallet's event stream reports every failed reconnect to the operator. The first time a failure
 * is seen (by its code and message, whichever part or wallet it came from) it is logged at once,
 * with its `fields`; its repeats in the next `windowMs` are only counted, and the count
 * (`repeats`) goes out with the line logged once the window has passed. A different failure is
 * logged at once.
 */
export function throttledErrorLog(log: Logger, msg: string, options: ThrottleOptions = {}): (error: unknown, fields?: Record<string, unknown>) => void {
  const { level = 'error', windowMs = ERROR_LOG_WINDOW_MS, now = Date.now } = options
  const seen = new Map<string, { at: number; repeats: number }>()
  return (error, fields) => {
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
    log[level]({ ...fields, err: error, ...(last?.repeats ? { repeats: last.repeats } : {}) }, msg)
  }
}
