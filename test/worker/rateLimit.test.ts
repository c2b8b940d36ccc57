/**
 * RateLimited (429 with Retry-After) is per session key: the limited session's
 * work waits for Retry-After and then completes with the same signed bytes,
 * nothing placed twice, while other sessions keep sending.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import { submitOrderSpec } from '../../jobs/submitOrder.js'
import { submitCancelAllSpec } from '../../jobs/submitCancelAll.js'
import { submitCancelOrderSpec } from '../../jobs/submitCancelOrder.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { haltWallet } from '../../src/runtime/intake/killSwitch.js'
import { requestCancelAll } from '../../src/runtime/intake/requestOrderChange.js'
import { orders, requests } from '../../src/store/schema/index.js'
import { eq } from 'drizzle-orm'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import { outboxJobId } from '../../src/store/repositories/outboxRepo.js'
import type { RunningWorker } from '../../src/worker.js'
import { answeredRequests, createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder, operatorOrders } from './support/operator.js'
import { rows } from './support/rows.js'

describe('a session sending faster than the operator allows', () => {
  let h: Harness
  let worker: RunningWorker
  // One request at a time per session key, refilled at two a second.
  beforeAll(async () => {
    h = await createHarness({ sandbox: { rateLimit: { perSecond: 2, burst: 1 } } })
    worker = await h.startWorker({ streams: false })
  })
  afterAll(async () => { await h?.close() })

  it('waits for Retry-After and completes every order, each placed once', async () => {
    const db = rows(h.db)
    const { wallet } = await h.wallet()
    const placed: { id: string; clientOrderId: string }[] = []
    for (const price of ['1901', '1902', '1903', '1904']) {
      placed.push((await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())).order)
    }
    await worker.relay()
    await eventually(async () => (await Promise.all(placed.map((o) => db.order(o.id)))).every((o) => o.state === 'open'), 20_000)

    const sent = await answeredRequests(() => db.requestsOfWallet(wallet.id), 20_000)
    // Every order went out as one signed request (resent as is after each 429), and at least one
    // waited out a Retry-After (whole seconds) between its first send and its acceptance. The 429
    // is not left on the accepted request: a resend clears it before the bytes go out again.
    expect(sent.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted'])
    expect(sent.some((r) => r.completedAt!.getTime() - r.sentAt!.getTime() >= 1_000)).toBe(true)
    expect(sent.map((r) => r.errorCode)).toEqual([null, null, null, null])
    expect(operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId).sort()).toEqual(placed.map((o) => o.clientOrderId).sort())
    expect((await db.outboxOfWallet(wallet.id)).map((r) => r.status)).toEqual(['done', 'done', 'done', 'done'])
  })
})

describe('one session rate-limited for a long time', () => {
  let h: Harness
  let worker: RunningWorker
  // One request per session key, then Retry-After 20 s.
  beforeAll(async () => {
    h = await createHarness({ sandbox: { rateLimit: { perSecond: 0.05, burst: 1 } } })
    worker = await h.startWorker({ streams: false })
  })
  afterAll(async () => { await h?.close() })

  it('holds that session\'s work without sending it, while another wallet\'s orders go straight through', async () => {
    const db = rows(h.db)
    const limited = await h.wallet()
    const other = await h.wallet()
    const place = async (walletId: string, price: string) =>
      placeLimitOrder(h.db, worker.markets, { walletId, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())

    await place(limited.wallet.id, '1901')
    await place(limited.wallet.id, '1902')
    await worker.relay()
    const refused = await eventually(async () => (await db.requestsOfWallet(limited.wallet.id)).find((r) => r.errorCode === 'RateLimited'))
    expect(refused.status).toBe('signed')

    // Placed after the 429: its job waits (delayed in BullMQ) and nothing is signed or sent for it.
    const later = await place(limited.wallet.id, '1903')
    const elsewhere = await place(other.wallet.id, '1950')
    await worker.relay()
    // The other wallet's session is not limited: its order opens well within the 20 s Retry-After.
    await eventually(async () => (await db.order(elsewhere.order.id)).state === 'open')
    const [laterRow] = await db.outboxOf(later.order.id)
    await eventually(async () => (await (await worker.submitQueue.getJob(outboxJobId(laterRow!)))?.getState()) === 'delayed')
    expect(await db.requestsOf(later.order.id)).toEqual([])
    // Reconciliation leaves the waiting placement to its job: it is not taken for one whose claim
    // was lost (re-queued as new work, with an 'order.resubmitted' entry, on every run while it waits).
    await reconcile(worker.deps, { walletId: limited.wallet.id, orphans: 'adopt', settleMs: 0 })
    expect((await db.outboxOf(later.order.id)).map((r) => r.id)).toEqual([laterRow!.id])
    expect(await db.audit(limited.wallet.id, 'order.resubmitted')).toEqual([])
    // The limited session's refused request is still waiting, sent once and not again.
    expect((await db.requestsOf(refused.orderId!)).map((r) => [r.status, r.errorCode])).toEqual([['signed', 'RateLimited']])
    expect(operatorOrders(h.sandbox, limited.wallet.address)).toHaveLength(1)
    // Its job run again while the wait lasts (a stalled job re-run, a delay cut short) waits again,
    // and the wait is not recorded on the request as a failed send.
    const control = { delay: async (ms: number): Promise<never> => { throw new Error(`delayed ${ms} ms`) } }
    await expect(runSubmission(worker.deps, refused.outboxId!, submitOrderSpec, control)).rejects.toThrow(/^delayed \d+ ms$/)
    expect((await db.requestsOf(refused.orderId!)).map((r) => [r.status, r.errorCode])).toEqual([['signed', 'RateLimited']])

    // The kill switch is not held back: it is tried at once (and this operator answers 429 again).
    await requestCancelAll(h.db, { walletId: limited.wallet.id })
    await worker.relay()
    const killSwitch = await eventually(async () => (await db.requestsOfWallet(limited.wallet.id)).find((r) => r.family === 'CancelAll' && r.errorCode))
    expect([killSwitch.status, killSwitch.errorCode]).toEqual(['signed', 'RateLimited'])
  })

  describe('the kill switch tripped while a placement waits out Retry-After', () => {
    const control = { delay: async (ms: number): Promise<never> => { throw new Error(`delayed ${ms} ms`) } }
    /** A wallet whose second order was refused 429 (its signed bytes wait), then halted. */
    async function haltedWhileWaiting() {
      const db = rows(h.db)
      const w = await h.wallet()
      for (const price of ['1901', '1902']) await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())
      await worker.relay()
      const waiting = await eventually(async () => (await db.requestsOfWallet(w.wallet.id)).find((r) => r.errorCode === 'RateLimited'))
      expect((await db.order(waiting.orderId!)).state).toBe('submitting')
      await haltWallet(h.db, { walletId: w.wallet.id, reason: 'stop everything' })
      return { db, w, waiting }
    }

    it('does not send the waiting bytes when their job wakes: the placement is cancelled as one stopped before signing', async () => {
      const { db, w, waiting } = await haltedWhileWaiting()
      expect(await runSubmission(worker.deps, waiting.outboxId!, submitOrderSpec, control)).toEqual({ result: 'done', reason: 'wallet halted' })
      expect(await db.order(waiting.orderId!)).toMatchObject({ state: 'cancelled', cancelReason: 'halted' })
      expect((await db.requestsOf(waiting.orderId!)).map((r) => [r.status, r.errorCode])).toEqual([['rejected', 'LOCAL.STOPPED']])
      expect(operatorOrders(h.sandbox, w.wallet.address)).toHaveLength(1)
    })

    it('does not resend bytes whose earlier answer was lost: the order stays unknown for reconciliation to read back', async () => {
      const { db, w, waiting } = await haltedWhileWaiting()
      // An earlier send of the same bytes lost its answer (and may have been accepted).
      await h.db.update(requests).set({ status: 'unknown' }).where(eq(requests.id, waiting.id))
      await h.db.update(orders).set({ state: 'unknown' }).where(eq(orders.id, waiting.orderId!))
      expect(await runSubmission(worker.deps, waiting.outboxId!, submitOrderSpec, control)).toEqual({ result: 'done', reason: 'not resent: wallet halted' })
      expect((await db.requestsOf(waiting.orderId!)).map((r) => r.status)).toEqual(['unknown'])
      expect((await db.order(waiting.orderId!)).state).toBe('unknown')
      expect((await db.outboxOf(waiting.orderId!))[0]).toMatchObject({ status: 'done', lastError: 'not resent: wallet halted' })
      expect(operatorOrders(h.sandbox, w.wallet.address)).toHaveLength(1)
    })
  })
})

describe('a session\'s rate limit ending while its placement is put back to pending', () => {
  let h: Harness
  beforeAll(async () => { h = await createHarness() })
  afterAll(async () => { await h?.close() })

  it('the placement still waits (it is not sent unclaimed): a halt meanwhile cancels it before it reaches the operator', async () => {
    const db = rows(h.db)
    const { wallet } = await h.wallet()
    const worker = await h.startWorker({ streams: false })
    // No worker runs the jobs: the runs below are the only ones.
    await worker.close()
    const deps = worker.deps
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1901', size: '0.1' }, new Date())
    const [placement] = await db.outboxOf(order.id)
    const settle = async (outboxId: string, spec: Parameters<typeof runSubmission>[2]) =>
      runSubmission(deps, outboxId, spec as typeof submitOrderSpec, { delay: async (): Promise<never> => { throw new Error('not expected to wait') } })
    // The kill switch trips while the placement is on its way (if it is sent), and its CancelAll,
    // sent at once by the cancel lane, reaches the operator first.
    let halted = false
    const halt = async () => {
      if (halted) return
      halted = true
      const { outboxId } = await haltWallet(h.db, { walletId: wallet.id, reason: 'stop everything' })
      await settle(outboxId, submitCancelAllSpec)
    }
    // The session's Retry-After ends while the placement is being put back to pending.
    let asked = 0
    const rateLimits = { pause: () => undefined, waitMs: () => (asked++ === 0 ? 1_000 : 0) }
    let submitted = 0
    const venue = { ...deps.venue, submit: async (body: string) => { submitted++; await halt(); return deps.venue.submit(body) } }
    const control = { delay: async (ms: number): Promise<never> => { throw new Error(`delayed ${ms} ms`) } }
    // The run waits out the Retry-After it read before the unclaim (1 s, and up to 10% jitter): it
    // does not read the limit again and send the placement unclaimed.
    await expect(runSubmission({ ...deps, rateLimits, venue }, placement!.id, submitOrderSpec, control)).rejects.toThrow(/^delayed 10\d\d ms$/)
    expect(submitted).toBe(0)
    expect((await db.order(order.id)).state).toBe('pending')
    await halt()
    // Whatever cancels the worker queued since (a late cancel of an order accepted after the halt) goes out.
    for (const row of await db.outboxOfWallet(wallet.id)) {
      if (row.kind === 'CancelOrder' && row.status === 'pending') await settle(row.id, submitCancelOrderSpec)
    }
    // Cancelled by the halt before anything was signed for it: the operator never saw it.
    expect(await db.order(order.id)).toMatchObject({ state: 'cancelled', cancelReason: 'halted' })
    expect(await db.requestsOf(order.id)).toEqual([])
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)).toBeUndefined()
  })
})
