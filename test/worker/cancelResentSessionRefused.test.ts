/**
 * A CancelOrder the operator took whose answer was lost, signed by a session that the operator has
 * revoked since (behind the worker's back: Postgres still holds it usable, `rotating`), of an order
 * another session placed (so the revocation cannot have cancelled it). Resent, the
 * same bytes are refused SessionUnauthorized, which says nothing of the first send; signed again
 * under the current session, the cancel is refused UnknownOrder (the order is no longer open) and
 * the order is read back cancelled. The requests record what the operator did with each: the first
 * taken (accepted), the second refused. No processors run: each run of a job is the test's.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { applyEvents } from '../../jobs/applyEvent.js'
import { submitCancelOrderSpec } from '../../jobs/submitCancelOrder.js'
import { requestCancel } from '../../src/runtime/intake/requestOrderChange.js'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import type { VenueEvent } from '../../src/venue/types.js'
import type { RunningWorker } from '../../src/worker.js'
import { grant } from '../lifecycle/support/lifecycle.js'
import type { Harness } from './support/harness.js'
import { operatorEvents, operatorOrder, revokeBehindTheWorkersBack } from './support/operator.js'
import type { rows } from './support/rows.js'
import { failOnDelay, openOrder, runFailing, stoppedWorkerHarness } from './support/stoppedWorker.js'

let h: Harness
let db: ReturnType<typeof rows>
let dead: RunningWorker

beforeAll(async () => { ({ h, db, dead } = await stoppedWorkerHarness()) })
afterAll(async () => { await h?.close() })

/** S1 places the order; S2 (a rotation) signs its cancel, which the operator takes (answer lost); S2 is then revoked there, S3 granted. */
async function cancelledBySessionRevokedSince() {
  const w = await h.wallet()
  const order = await openOrder(h, dead, w.wallet.id)
  await grant(h, w)
  const { outboxId } = await requestCancel(h.db, { orderId: order.id })
  await runFailing(h, dead, outboxId, 'dropAfterAccept', submitCancelOrderSpec)
  expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)?.status).toBe('cancelled')
  expect((await cancelsOf(order.id)).map((r) => r.status)).toEqual(['unknown'])
  expect((await revokeBehindTheWorkersBack(dead.deps, w.wallet.id)).status).toBe(200)
  await grant(h, w)
  const applyOperatorEvents = () => applyEvents(h.db, w.wallet.id, operatorEvents(h.sandbox, w.wallet.address) as unknown as VenueEvent[])
  return { ...w, order, outboxId, applyOperatorEvents }
}

const cancelsOf = async (orderId: string) => (await db.requestsOf(orderId)).filter((r) => r.family === 'CancelOrder')

it('a lost-answer CancelOrder resent and refused SessionUnauthorized, signed again and refused UnknownOrder: the first is recorded accepted', async () => {
  const w = await cancelledBySessionRevokedSince()
  await runSubmission(dead.deps, w.outboxId, submitCancelOrderSpec, failOnDelay)
  expect((await db.order(w.order.id)).state).toBe('cancelled')
  expect((await cancelsOf(w.order.id)).map((r) => `${r.status}:${r.errorCode}`)).toEqual(['accepted:null', 'rejected:UnknownOrder'])
  await w.applyOperatorEvents()
  expect((await db.order(w.order.id)).state).toBe('cancelled')
  expect((await cancelsOf(w.order.id)).map((r) => `${r.status}:${r.errorCode}`)).toEqual(['accepted:null', 'rejected:UnknownOrder'])
})
