/**
 * A request the operator refuses for good (a business rejection, an ACL violation) is closed in the
 * transaction that ends its work (the order rejected, the outbox row failed, the audit entry).
 * Closed on its own first, a crash before the rest left the request rejected and the work to run
 * again, which found nothing open to resend and signed the order anew under a fresh nonce: a second
 * request for a refusal the worker had already heard, and nothing audited for the first. The crash
 * is a failure of the audit insert, once (`withFirstWriteFailing`).
 */
import { and, eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { submitOrderSpec } from '../../jobs/submitOrder.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { loadSubmitContext } from '../../src/runtime/submission/loadSubmitContext.js'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import { settleFailed } from '../../src/runtime/submission/settle.js'
import { orders, requests } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { withFirstWriteFailing } from '../support/firstWriteFailing.js'
import type { Harness } from './support/harness.js'
import type { rows } from './support/rows.js'
import { failOnDelay, openOrder, restingOrder, runFailing, stoppedWorkerHarness } from './support/stoppedWorker.js'

let h: Harness
let db: ReturnType<typeof rows>
let dead: RunningWorker
beforeAll(async () => { ({ h, db, dead } = await stoppedWorkerHarness()) })
afterAll(async () => { await h?.close() })

describe('a refusal for good', () => {
  it('leaves the request open when the rest of its settlement fails, and the work run again resends the same bytes', async () => {
    // 100 USD cannot buy 1 ETH at 1990: InsufficientBalance.
    const { wallet } = await h.wallet(undefined, { USD: '100' })
    const { order } = await placeLimitOrder(h.db, dead.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '1' }, new Date())
    const [placement] = await db.outboxOf(order.id)

    await withFirstWriteFailing(h.db, { name: 'fail_rejected', table: 'audit_log', when: "new.action = 'Order.rejected'", message: 'audit insert failed (test)' }, async () => {
      await expect(runSubmission(dead.deps, placement!.id, submitOrderSpec, failOnDelay)).rejects.toMatchObject({ cause: { message: 'audit insert failed (test)' } })
      // Nothing of the refusal is stored: the request is as it was signed, the work not ended.
      const [signed] = await db.requestsOf(order.id)
      expect(signed).toMatchObject({ status: 'signed', errorCode: null })
      expect((await db.order(order.id)).state).not.toBe('rejected')
      expect((await db.outboxOf(order.id))[0]!.status).not.toBe('failed')

      expect(await runSubmission(dead.deps, placement!.id, submitOrderSpec, failOnDelay)).toEqual({ result: 'rejected', code: 'InsufficientBalance' })
      // The same request, resent and refused again: nothing signed a second time.
      expect((await db.requestsOf(order.id)).map((r) => [r.id, r.status, r.errorCode])).toEqual([[signed!.id, 'rejected', 'InsufficientBalance']])
    })
    expect(await db.order(order.id)).toMatchObject({ state: 'rejected', rejectCode: 'InsufficientBalance' })
    expect((await db.outboxOf(order.id))[0]!.status).toBe('failed')
    expect((await db.audit(wallet.id, 'Order.rejected')).map((entry) => entry.details)).toEqual([
      { outboxId: placement!.id, code: 'InsufficientBalance', message: expect.any(String) },
    ])
  })

  it('is not recorded over a request another run of the same work had accepted', async () => {
    const { wallet } = await h.wallet()
    const order = await openOrder(h, dead, wallet.id)
    const [placement] = await db.outboxOf(order.id)
    const [accepted] = await db.requestsOf(order.id)
    const ctx = (await loadSubmitContext(dead.deps, placement!.id))!

    const outcome = await settleFailed(ctx, submitOrderSpec, 'InsufficientBalance', 'late refusal (test)', 'operator', { requestId: accepted!.id, sentAt: new Date() })
    expect(outcome).toEqual({ result: 'done', reason: expect.stringContaining('settled by another run') })
    expect((await db.requestsOf(order.id)).map((r) => r.status)).toEqual(['accepted'])
    expect((await db.order(order.id)).state).toBe('open')
    expect((await db.outboxOf(order.id))[0]!.status).toBe('done')
    expect(await db.audit(wallet.id, 'Order.rejected')).toEqual([])
  })

  it('waits for the order\'s lock before it closes the request: reconciliation\'s resubmit (order, then its requests) never deadlocks with it', async () => {
    const { wallet } = await h.wallet()
    const { order, placementId } = await restingOrder(h, dead, wallet.id)
    // Signed and sent once (answered 503): the request is open, the order claimed.
    await runFailing(h, dead, placementId, 'errorRate', submitOrderSpec)
    const [request] = await db.requestsOf(order.id)
    const ctx = (await loadSubmitContext(dead.deps, placementId))!

    let locked!: () => void
    const orderLocked = new Promise<void>((resolve) => { locked = resolve })
    // What the resubmit does: the order FOR UPDATE, then its open requests closed; the settlement starts between the two.
    const resubmit = h.db.transaction(async (tx) => {
      await tx.select({ id: orders.id }).from(orders).where(eq(orders.id, order.id)).for('update')
      locked()
      await new Promise((resolve) => setTimeout(resolve, 300))
      await tx.update(requests).set({ status: 'rejected', errorCode: 'NeverPlaced' }).where(and(eq(requests.orderId, order.id), inArray(requests.status, ['signed', 'unknown'])))
    })
    await orderLocked
    const settling = settleFailed(ctx, submitOrderSpec, 'InsufficientBalance', 'refused (test)', 'operator', { requestId: request!.id, sentAt: new Date() })
      .then((outcome) => ({ outcome }), (error: unknown) => ({ error: String(error) }))
    // Neither is aborted as a deadlock's victim; the settlement finds the request closed by the resubmit.
    await expect(resubmit).resolves.toBeUndefined()
    expect(await settling).toEqual({ outcome: { result: 'done', reason: expect.stringContaining('settled by another run') } })
    expect((await db.requestsOf(order.id)).map((r) => [r.status, r.errorCode])).toEqual([['rejected', 'NeverPlaced']])
  })
})
