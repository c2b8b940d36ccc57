import { BaseError } from '../core/errors/BaseError.js'
import { parseRetryAfterMs } from '../core/parseRetryAfter.js'
import { alertSeverity } from '../core/alerts/alertCodes.js'
import { webhookRetryable } from '../core/alerts/webhookRetryDelay.js'
import type { Alert } from './createAlertSink.js'

/** The webhook answered an alert's POST with a status other than 2xx. */
export class AlertWebhookRefusedError extends BaseError {
  override name = 'AlertWebhookRefusedError'
  readonly status: number
  /** Its `Retry-After`, when it gave one. */
  readonly retryAfterMs: number | undefined

  constructor(status: number, retryAfterMs: number | undefined) {
    super(`the webhook answered HTTP ${status}`, { code: 'ALERT.WEBHOOK_REFUSED', retryable: webhookRetryable({ status }) })
    this.status = status
    this.retryAfterMs = retryAfterMs
  }
}

/**
 * POSTs one alert (raised at `raisedAt`) to the webhook, once. The body carries `text` (so a Slack or Mattermost incoming
 * webhook shows it as is) and `severity` (`alertSeverity`) beside the alert's fields. A user and password in the webhook URL go as
 * Basic authentication, as curl sends them: fetch refuses such a URL, and its error quotes the URL
 * whole, password included. Throws `AlertWebhookRefusedError` for a status other than 2xx, fetch's
 * error when no answer came within `timeoutMs`.
 */
export async function postAlert(url: string, alert: Alert, raisedAt: number, timeoutMs: number): Promise<void> {
  // `at`: when it was raised, the same on every retry.
  const body = {
    text: `Deputy ALERT ${alert.code} (wallet ${alert.walletId}): ${alert.message}`, ...alert, details: alert.details ?? {},
    severity: alertSeverity(alert.code), at: new Date(raisedAt).toISOString(),
  }
  const target = new URL(url)
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (target.username || target.password) {
    const credentials = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`
    headers.authorization = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`
    target.username = ''
    target.password = ''
  }
  const response = await fetch(target, {
    method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
  })
  await response.body?.cancel()
  if (!response.ok) throw new AlertWebhookRefusedError(response.status, parseRetryAfterMs(response.headers.get('retry-after'), Date.now()))
}
