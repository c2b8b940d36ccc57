/**
 * Two runs of the same placement at once (a stalled job re-run beside the original, a retry), across
 * a halt. Its bytes were signed before the halt and answered 429 (the request stays open). Run B
 * reads them and passes the stop check; the halt commits and its CancelAll reaches the operator; run
 * A then stops the placement (the request closed, the order cancelled `halted`); run B sends the old
 * bytes and the operator takes them. The order is live at the operator for a wallet whose user pulled
 * the kill switch: it must be recorded live and cancelled at once (and the resume wait for that
 * cancel), not left live until a reconciliation finds it ended here and open there.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { submitCancelAllSpec } from '../../jobs/submitCancelAll.js'
import { submitCancelOrderSpec } from '../../jobs/submitCancelOrder.js'
import { submitOrderSpec } from '../../jobs/submitOrder.js'
import { VenueError } from '../../src/core/errors/venue.js'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import { createHarness, type Harness } from './support/harness.js'
import { operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let db: ReturnType<typeof rows>
beforeAll(async () => {
  h = await createHarness()
  db = rows(h.db)
})
afterAll(async () => { await h?.close() })

const control = { delay: async (ms: number): Promise<never> => { throw new Error(`delayed ${ms} ms`) } }
/** No session waits out a rate limit here: the runs below decide when each send happens. */
const noLimits = { pause: () => undefined, waitMs: () => 0 }

it('bytes another run sends after the halt stopped their placement are recorded live and cancelled at once; resume waits for that cancel', async () => {
  const { wallet } = await h.wallet()
  const worker = await h.startWorker({ streams: false })
  // No worker runs the jobs: the runs below are the only ones.
  await worker.close()
  const deps = { ...worker.deps, rateLimits: noLimits }
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1901', size: '0.1' }, new Date())
  const [placement] = await db.outboxOf(order.id)

  // Signed before the halt and answered 429: the request stays open, its bytes wait.
  const limited = { ...deps, venue: { ...deps.venue, submit: async (): Promise<never> => { throw new VenueError('RateLimited', 'slow down', { retryAfterMs: 1000 }) } } }
  await expect(runSubmission(limited, placement!.id, submitOrderSpec, control)).rejects.toThrow('delayed')
  expect((await db.requestsOf(order.id)).map((r) => [r.status, r.errorCode])).toEqual([['signed', 'RateLimited']])

  // Run B reads the request and passes the stop check (the wallet is not halted yet), then stalls.
  let checked!: () => void
  const stopChecked = new Promise<void>((resolve) => { checked = resolve })
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  const stallingSpec = {
    ...submitOrderSpec,
    stopsResend: async (...args: Parameters<NonNullable<typeof submitOrderSpec.stopsResend>>) => {
      const stop = await submitOrderSpec.stopsResend!(...args)
      checked()
      await released
      return stop
    },
  }
  const runB = runSubmission(deps, placement!.id, stallingSpec, control)
  await stopChecked

  // The kill switch: its CancelAll reaches the operator (nothing of the wallet is live there yet).
  const halt = await haltWallet(h.db, { walletId: wallet.id, reason: 'stop everything' })
  expect(await runSubmission(deps, halt.outboxId, submitCancelAllSpec, control)).toMatchObject({ result: 'accepted' })
  // Run A stops the placement: the request is closed, the order cancelled as halted.
  expect(await runSubmission(deps, placement!.id, submitOrderSpec, control)).toEqual({ result: 'done', reason: 'wallet halted' })
  expect(await db.order(order.id)).toMatchObject({ state: 'cancelled', cancelReason: 'halted' })

  // Run B goes on and sends the old bytes: the operator takes them.
  release()
  expect(await runB).toMatchObject({ result: 'accepted' })
  expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)).toMatchObject({ status: 'open' })
  // Recorded as it is: accepted, the order live there (with the operator's id).
  expect((await db.requestsOf(order.id)).map((r) => [r.status, r.errorCode])).toEqual([['accepted', null]])
  expect(await db.order(order.id)).toMatchObject({ state: 'open', venueOrderId: expect.any(String) })
  // Its cancel is queued at once, and the resume is refused until it has gone out.
  const cancels = (await db.outboxOf(order.id)).filter((row) => row.kind === 'CancelOrder')
  expect(cancels.map((row) => [row.status, row.payload.reason])).toEqual([['pending', 'halted']])
  expect((await db.audit(wallet.id, 'order.liveAtOperator')).map((row) => row.details.orderId)).toEqual([order.id])
  await expect(resumeWallet(h.db, { walletId: wallet.id })).rejects.toThrow(`the cancel of order ${order.id}`)

  expect(await runSubmission(deps, cancels[0]!.id, submitCancelOrderSpec, control)).toMatchObject({ result: 'accepted' })
  expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)).toMatchObject({ status: 'cancelled' })
  expect(await db.order(order.id)).toMatchObject({ state: 'cancelled', cancelReason: 'halted' })
  expect(await resumeWallet(h.db, { walletId: wallet.id })).toEqual({ status: 'active' })
})
