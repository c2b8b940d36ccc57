import { describe, expect, it } from 'vitest'
import { defaultWebhookRetryPolicy, webhookRetryDelayMs } from '../../../src/core/alerts/webhookRetryDelay.js'

describe('webhookRetryDelayMs', () => {
  const policy = defaultWebhookRetryPolicy

  it('doubles from 1 s without a Retry-After, up to 30 s, for no answer, 408, 425, 429 and 5xx', () => {
    for (const failure of [{}, { status: 408 }, { status: 425 }, { status: 429 }, { status: 500 }, { status: 503 }]) {
      expect([1, 2, 3, 4, 5].map((attempt) => webhookRetryDelayMs({ ...policy, attempts: 9, giveUpAfterMs: 600_000 }, failure, attempt, 0))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000])
    }
    expect(webhookRetryDelayMs({ ...policy, attempts: 9, giveUpAfterMs: 600_000 }, {}, 7, 0)).toBe(30_000)
  })

  it('waits a Retry-After as given (at least 100 ms)', () => {
    expect(webhookRetryDelayMs(policy, { status: 429, retryAfterMs: 45_000 }, 1, 0)).toBe(45_000)
    expect(webhookRetryDelayMs(policy, { status: 503, retryAfterMs: 0 }, 1, 0)).toBe(100)
  })

  it('gives up on a refusal that another POST would get again, once the attempts are spent, or when the wait would end past the bound', () => {
    for (const status of [400, 401, 403, 404, 410]) expect(webhookRetryDelayMs(policy, { status }, 1, 0)).toBeUndefined()
    expect(webhookRetryDelayMs(policy, { status: 503 }, policy.attempts, 0)).toBeUndefined()
    expect(webhookRetryDelayMs(policy, { status: 429, retryAfterMs: 3_600_000 }, 1, 0)).toBeUndefined()
    expect(webhookRetryDelayMs(policy, { status: 503 }, 2, 118_500)).toBeUndefined()
    expect(webhookRetryDelayMs(policy, { status: 503 }, 2, 118_000)).toBe(2_000)
  })
})
