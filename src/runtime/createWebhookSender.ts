import { type AlertSeverity, alertSeverity } from '../core/alerts/alertCodes.js'
import { type WebhookFailure, type WebhookRetryPolicy, webhookRetryDelayMs } from '../core/alerts/webhookRetryDelay.js'
import { BaseError } from '../core/errors/BaseError.js'
import { errorMessage } from '../core/errors/errorMessage.js'
import type { Alert } from './createAlertSink.js'
import { AlertWebhookRefusedError, postAlert } from './postAlert.js'

export type WebhookSenderOptions = {
  /** Never logged, nor quoted in an error: such URLs carry their own secret. */
  url: string
  timeoutMs: number
  retry: WebhookRetryPolicy
  /** POSTs on the wire at once, at most. */
  concurrency: number
  /**
   * Alerts under way (waiting for a free POST, on the wire, or waiting to retry), at most, of each
   * severity: one more is given up at once. Counted apart, so a burst of warnings never has a critical alert given up.
   */
  maxWaiting: number
  now: () => number
}

/** An alert given up: its last failure, and how many POSTs were made. */
export class AlertNotDelivered extends BaseError {
  override name = 'AlertNotDelivered'
  readonly attempts: number
  /** The webhook refused it with an answer that retrying cannot change (400, 401, 403, 404: deleted or misconfigured). */
  readonly refused: boolean

  constructor(reason: string, attempts: number, refused = false) {
    super(reason, { code: 'ALERT.NOT_DELIVERED' })
    this.attempts = attempts
    this.refused = refused
  }
}

export type WebhookSender = {
  /**
   * Resolves once the webhook accepted the alert; rejects with `AlertNotDelivered` once it is
   * given up: a refusal that retrying cannot change, retries spent, too many alerts waiting, or the
   * sender stopped.
   */
  send: (alert: Alert, raisedAt: number) => Promise<void>
  /** Ends every wait (for a free POST, or to retry): the alerts waiting are given up at once. POSTs on the wire end as they do. */
  stop: () => void
}

/**
 * Sends alerts to the webhook with at most `concurrency` POSTs at once, each failure that another
 * POST may change (no answer, 429, 5xx) retried after a backoff (`webhookRetryDelayMs`). A
 * Retry-After holds every alert, not only the one answered: a rate limit is the webhook's (Slack's
 * is per webhook), so none is POSTed before it passes. A critical alert (`alertSeverity`) waiting for
 * a free POST takes the next one before any warning waiting: a burst of stuck work (`WORK_STALLED`
 * for every request) does not hold up a `KEY_INTEGRITY` behind it.
 */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const { url, timeoutMs, retry, concurrency, maxWaiting, now } = options
  const stopping = new AbortController()
  let posting = 0
  const underWay: Record<AlertSeverity, number> = { critical: 0, warning: 0 }
  /** Alerts waiting for a free POST, in turn, critical ones first; told false when the sender stops. */
  const queues: Record<AlertSeverity, ((turn: boolean) => void)[]> = { critical: [], warning: [] }
  /** No POST starts before this (a Retry-After's end). */
  let holdUntil = -Infinity

  /** Every wait under way, each ended at once by `stop`. */
  const waits = new Set<() => void>()
  const wait = (ms: number) => new Promise<void>((resolve) => {
    if (ms <= 0 || stopping.signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      waits.delete(done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    waits.add(done)
  })
  /** True once one of the `concurrency` POSTs is this caller's; false: the sender stopped. */
  const turn = (severity: AlertSeverity) => new Promise<boolean>((resolve) => {
    if (stopping.signal.aborted) resolve(false)
    else if (posting < concurrency) {
      posting++
      resolve(true)
    } else queues[severity].push(resolve)
  })
  /** Hands the POST over to the next alert waiting, a critical one first. */
  const release = () => {
    const next = queues.critical.shift() ?? queues.warning.shift()
    if (next) next(true)
    else posting--
  }
  /** One POST within the concurrency, after any Retry-After still running: undefined when accepted, how it failed, or 'stopped'. */
  const attempt = async (alert: Alert, raisedAt: number, severity: AlertSeverity): Promise<{ failure: WebhookFailure; error: unknown } | 'stopped' | undefined> => {
    for (;;) {
      await wait(holdUntil - now())
      if (!(await turn(severity))) return 'stopped'
      if (stopping.signal.aborted) {
        release()
        return 'stopped'
      }
      if (holdUntil <= now()) break
      // Another alert heard a Retry-After while this one waited for its turn.
      release()
    }
    try {
      await postAlert(url, alert, raisedAt, timeoutMs)
      return undefined
    } catch (error) {
      if (!(error instanceof AlertWebhookRefusedError)) return { failure: {}, error }
      // At most `giveUpAfterMs`: a Retry-After of hours (a misconfigured proxy) would hold every later alert as long.
      if (error.retryAfterMs !== undefined) holdUntil = Math.max(holdUntil, now() + Math.min(error.retryAfterMs, retry.giveUpAfterMs))
      return { failure: { status: error.status, ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }) }, error }
    } finally {
      release()
    }
  }

  return {
    async send(alert, raisedAt) {
      const severity = alertSeverity(alert.code)
      if (underWay[severity] >= maxWaiting) throw new AlertNotDelivered(`${underWay[severity]} ${severity} alerts already wait for the webhook`, 0)
      underWay[severity]++
      try {
        let firstAt: number | undefined
        let last: unknown
        for (let attempts = 0; ; ) {
          const failed = await attempt(alert, raisedAt, severity)
          if (failed === 'stopped') {
            throw new AlertNotDelivered(last === undefined ? 'the process is stopping' : `${errorMessage(last)}; then the process stopped`, attempts)
          }
          attempts++
          if (!failed) return
          last = failed.error
          firstAt ??= now()
          const delayMs = webhookRetryDelayMs(retry, failed.failure, attempts, now() - firstAt)
          if (delayMs === undefined) throw new AlertNotDelivered(errorMessage(last), attempts, last instanceof AlertWebhookRefusedError && !last.retryable)
          await wait(delayMs)
        }
      } finally {
        underWay[severity]--
      }
    },
    stop() {
      stopping.abort()
      for (const next of [...queues.critical.splice(0), ...queues.warning.splice(0)]) next(false)
      for (const done of [...waits]) done()
    },
  }
}
