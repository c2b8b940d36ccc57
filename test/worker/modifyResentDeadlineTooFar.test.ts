/**
 * A ModifyOrder the operator took whose answer was lost, resent after the operator's clock stepped
 * back (an NTP correction; another node of the operator behind a balancer): its deadline is now more
 * than maxDeadlineMs ahead, refused InvalidRequest. The operator checks that before the replay rules
 * (PROTOCOL.md §5), so the refusal says nothing of the first send, which it applied. The order is
 * read back (`tookEffect`) before the modify is signed again on the clock measured anew: signed again
 * blindly, it would be applied twice (revision 2). No processors run: each run of the job is the
 * test's (`runSubmission` with a closed worker's adapters).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { submitModifyOrderSpec } from '../../jobs/submitModifyOrder.js'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from './support/harness.js'
import { operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'
import { failOnDelay, modifyFailing, openOrder } from './support/stoppedWorker.js'

let h: Harness
let db: ReturnType<typeof rows>
let dead: RunningWorker
let operatorStepMs = 0
const control = failOnDelay

beforeAll(async () => {
  h = await createHarness({ sandbox: { now: () => Date.now() + operatorStepMs } })
  db = rows(h.db)
  // A stopped worker: its adapters remain, its loops and processors do not run.
  dead = await h.startWorker({ streams: false })
  await dead.close()
})
afterAll(async () => { await h?.close() })

const modifiesOf = async (orderId: string) => (await db.requestsOf(orderId)).filter((r) => r.family === 'ModifyOrder')

/** A resting order, and a modify of it that the operator applies (revision 1) and whose answer is lost. */
async function modifiedAnswerLost() {
  const w = await h.wallet()
  const order = await openOrder(h, dead, w.wallet.id)
  const outboxId = await modifyFailing(h, dead, order.id, 'dropAfterAccept')
  expect((await modifiesOf(order.id)).map((r) => r.status)).toEqual(['unknown'])
  expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'open', revision: 1 })
  return { ...w, order, outboxId }
}

describe('a lost-answer ModifyOrder resent after the operator\'s clock stepped back (refused InvalidRequest, deadline too far ahead)', () => {
  it('is read back, done as accepted, and not signed again (the operator keeps revision 1)', async () => {
    const w = await modifiedAnswerLost()
    // Back 90 s: the persisted deadline (30 s ahead when signed) is two minutes ahead, past maxDeadlineMs.
    operatorStepMs -= 90_000
    const result = await runSubmission(dead.deps, w.outboxId, submitModifyOrderSpec, control)
    const modifies = await modifiesOf(w.order.id)
    expect(modifies.map((r) => r.status)).toEqual(['accepted'])
    expect(result).toEqual({ result: 'accepted', duplicate: true, requestId: modifies[0]!.id })
    expect((await db.outboxOf(w.order.id)).find((r) => r.id === w.outboxId)?.lastError).toMatch(/read back .* refused for a deadline too far ahead/)
    expect(operatorOrder(h.sandbox, w.wallet.address, w.order.clientOrderId)).toMatchObject({ status: 'open', revision: 1 })
    const stored = await db.order(w.order.id)
    expect([stored.state, Number(stored.price), Number(stored.size), stored.venueRevision]).toEqual(['open', 1985, 0.6, 1])
  })

  it('one the operator never took (a 503, the process died before the answer was stored) is signed again on the clock measured anew and applied once', async () => {
    const w = await h.wallet()
    const order = await openOrder(h, dead, w.wallet.id)
    const outboxId = await modifyFailing(h, dead, order.id, 'errorRate')
    operatorStepMs -= 90_000
    const result = await runSubmission(dead.deps, outboxId, submitModifyOrderSpec, control)
    expect((await modifiesOf(order.id)).map((r) => `${r.status}:${r.errorCode}`)).toEqual(['rejected:InvalidRequest', 'accepted:null'])
    expect(result).toMatchObject({ result: 'accepted', duplicate: false })
    expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'open', revision: 1, price: 1985n * 10n ** 18n })
  })
})
