/**
 * A submission whose claim decides there is nothing to send (a placement with a cancel queued behind
 * it, say) records that decision (the order cancelled, with its reason) and its settlement (the
 * outbox row done, the audit entry saying why) in one transaction. Settled in a second one, a crash
 * between the two left the order cancelled and the work to run again, whose claim then found the
 * intent cancelled and audited another reason ("intent cancelled") than the one that cancelled it.
 * The crash is a failure of the audit insert, once (`withFirstWriteFailing`).
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { submitOrderSpec } from '../../jobs/submitOrder.js'
import { requestCancel } from '../../src/runtime/intake/requestOrderChange.js'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import type { RunningWorker } from '../../src/worker.js'
import { withFirstWriteFailing } from '../support/firstWriteFailing.js'
import { createHarness, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'
import { failOnDelay, restingOrder } from './support/stoppedWorker.js'

let h: Harness
let dead: RunningWorker
beforeAll(async () => {
  h = await createHarness()
  // A stopped worker: its adapters remain, its loops and processors do not run.
  dead = await h.startWorker({ streams: false })
  await dead.close()
})
afterAll(async () => { await h?.close() })

it('audits the reason that cancelled a placement, even when the first attempt to settle it failed', async () => {
  const { wallet } = await h.wallet()
  const { order, placementId } = await restingOrder(h, dead, wallet.id)
  await requestCancel(h.db, { orderId: order.id })

  // The next `Order.skipped` audit entry fails (once), as a process dying there would leave it.
  await withFirstWriteFailing(h.db, { name: 'fail_skipped', table: 'audit_log', when: "new.action = 'Order.skipped'", message: 'audit insert failed (test)' }, async () => {
    await expect(runSubmission(dead.deps, placementId, submitOrderSpec, failOnDelay)).rejects.toMatchObject({ cause: { message: 'audit insert failed (test)' } })
    // The failed settlement (the process gone) leaves the work to run again: it is settled then.
    expect(await runSubmission(dead.deps, placementId, submitOrderSpec, failOnDelay)).toEqual({ result: 'done', reason: 'cancelled before submission' })
  })
  const skipped = await rows(h.db).audit(wallet.id, 'Order.skipped')
  expect(skipped.map((entry) => entry.details)).toEqual([{ outboxId: placementId, reason: 'cancelled before submission' }])
  expect(await rows(h.db).order(order.id)).toMatchObject({ state: 'cancelled', cancelReason: 'user' })
})
