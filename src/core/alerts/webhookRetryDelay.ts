/** How an alert's failed webhook POST is tried again (`webhookRetryDelayMs`). */
export type WebhookRetryPolicy = {
  /** POSTs in all, the first included. */
  attempts: number
  /** The wait after the first failure without a Retry-After, doubling after each further one. */
  firstDelayMs: number
  maxDelayMs: number
  /** No retry would start later than this after the first POST failed: the alert is given up instead. */
  giveUpAfterMs: number
}

/**
 * Six POSTs over at most two minutes: a rate limit (Slack's allows about one post a second, and
 * answers 429 with Retry-After) or a webhook restarting is waited out; an outage longer than that
 * gives the alert up, so that its next occurrence is sent rather than held back for the hour.
 */
export const defaultWebhookRetryPolicy: WebhookRetryPolicy = { attempts: 6, firstDelayMs: 1_000, maxDelayMs: 30_000, giveUpAfterMs: 120_000 }

/** How a POST failed: the HTTP status it was answered, none when it got no answer (refused, reset, timed out). */
export type WebhookFailure = { status?: number; retryAfterMs?: number }

/**
 * Whether another POST may be answered otherwise: no answer, 408, 425, 429 (a rate limit) or a 5xx.
 * Any other refusal (404: the webhook was deleted; 400, 401, 403) would be the same again.
 */
export function webhookRetryable(failure: WebhookFailure): boolean {
  const { status } = failure
  return status === undefined || status === 408 || status === 425 || status === 429 || status >= 500
}

/**
 * How long to wait before POSTing again after attempt `attempt` (1 for the first) failed, the first
 * having failed `elapsedMs` ago; undefined: give up (not retryable, attempts spent, or the wait
 * would end past `giveUpAfterMs`). A Retry-After is the wait, as the webhook asks; otherwise the
 * delay doubles from `firstDelayMs` up to `maxDelayMs`.
 */
export function webhookRetryDelayMs(policy: WebhookRetryPolicy, failure: WebhookFailure, attempt: number, elapsedMs: number): number | undefined {
  if (!webhookRetryable(failure) || attempt >= policy.attempts) return undefined
  const waitMs = failure.retryAfterMs === undefined
    ? Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (attempt - 1))
    // At least 100 ms: `Retry-After: 0` repeated would spend the attempts at once.
    : Math.max(100, failure.retryAfterMs)
  return elapsedMs + waitMs > policy.giveUpAfterMs ? undefined : waitMs
}
