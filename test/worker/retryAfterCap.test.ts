/**
 * A Retry-After far beyond any real rate limit (a misconfigured operator or proxy: a day) is not
 * waited out as asked: the session's work would sit delayed for that long, cancels included, with
 * nothing failing and nobody told. The wait is capped; a send after it that is still limited hears
 * a fresh 429 and waits again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { submitCancelOrderSpec } from '../../jobs/submitCancelOrder.js'
import { VenueError } from '../../src/core/errors/venue.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker
beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ streams: false })
})
afterAll(async () => { await h?.close() })

describe('an absurd Retry-After', () => {
  it('holds the session a minute at most: a cancel asked meanwhile is not put off for a day', async () => {
    const db = rows(h.db)
    const { wallet, session } = await h.wallet()
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
    await worker.relay()
    await eventually(async () => (await db.order(order.id)).state === 'open')

    const { venue } = worker.deps
    const submit = venue.submit
    // The operator answers the modify 429 with Retry-After: 86400.
    venue.submit = async (body) => {
      if (JSON.parse(body).family === 'ModifyOrder') throw new VenueError('RateLimited', 'slow down', { status: 429, retryAfterMs: 86_400_000 })
      return submit(body)
    }
    try {
      await requestModify(h.db, worker.markets, { orderId: order.id, price: '1985', size: '0.5' })
      await worker.relay()
      await eventually(async () => (await db.requestsOf(order.id)).some((r) => r.errorCode === 'RateLimited'))
      expect(worker.deps.rateLimits.waitMs(session.id)).toBeLessThanOrEqual(60_000)

      // The user's cancel waits for the session's turn: that long (and its jitter) at most.
      const { outboxId } = await requestCancel(h.db, { orderId: order.id })
      const delays: number[] = []
      const control = { delay: async (ms: number): Promise<never> => { delays.push(ms); throw new Error('delayed') } }
      await expect(runSubmission(worker.deps, outboxId, submitCancelOrderSpec, control)).rejects.toThrow('delayed')
      expect(delays).toHaveLength(1)
      expect(delays[0]).toBeLessThanOrEqual(66_000)
    } finally {
      venue.submit = submit
    }
  })
})
