/**
 * An Order the operator placed whose answer was lost, signed by a session that the operator has
 * revoked since (behind the worker's back: Postgres still holds it usable, `rotating`), which
 * cancelled the order there (`sessionRevoked`). Resent, the same bytes are refused
 * SessionUnauthorized; signed again under the current session with the same cloid, the operator
 * answers the first receipt (`duplicate`) and places nothing. The stream's events (applied here
 * before or after that run) cancel the order and place it again once: never two live orders, and
 * the order is never recorded rejected. No processors run: each run of a job is the test's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyEvents } from '../../jobs/applyEvent.js'
import { submitOrderSpec } from '../../jobs/submitOrder.js'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import type { VenueEvent } from '../../src/venue/types.js'
import type { RunningWorker } from '../../src/worker.js'
import { grant } from '../lifecycle/support/lifecycle.js'
import type { Harness } from './support/harness.js'
import { operatorEvents, operatorOrders, revokeBehindTheWorkersBack } from './support/operator.js'
import type { rows } from './support/rows.js'
import { failOnDelay, restingOrder, runFailing, stoppedWorkerHarness } from './support/stoppedWorker.js'

let h: Harness
let db: ReturnType<typeof rows>
let dead: RunningWorker
const control = failOnDelay

beforeAll(async () => { ({ h, db, dead } = await stoppedWorkerHarness()) })
afterAll(async () => { await h?.close() })

/** S2 places the order, its answer lost; S2 is revoked at the operator (the order cancelled there); S3 granted (S2 rotating here). */
async function placedBySessionRevokedSince() {
  const w = await h.wallet()
  await grant(h, w)
  const { order, placementId: outboxId } = await restingOrder(h, dead, w.wallet.id)
  await runFailing(h, dead, outboxId, 'dropAfterAccept', submitOrderSpec)
  expect((await db.order(order.id)).state).toBe('unknown')
  expect((await revokeBehindTheWorkersBack(dead.deps, w.wallet.id)).status).toBe(200)
  await grant(h, w)
  expect(operatorOrders(h.sandbox, w.wallet.address).map((o) => o.status)).toEqual(['cancelled'])
  const applyOperatorEvents = () => applyEvents(h.db, w.wallet.id, operatorEvents(h.sandbox, w.wallet.address) as unknown as VenueEvent[])
  return { ...w, order, outboxId, applyOperatorEvents }
}

/** The order cancelled by the revocation and replaced once; the replacement placed: one live order at the operator. */
async function endsReplacedOnce(w: Awaited<ReturnType<typeof placedBySessionRevokedSince>>) {
  const ofIntent = await db.ordersOfIntent(w.order.intentId!)
  expect(ofIntent.map((o) => o.state)).toEqual(['cancelled', 'pending'])
  expect(ofIntent[0]).toMatchObject({ cancelReason: 'sessionRevoked', replacedBy: ofIntent[1]!.id })
  const placement = (await db.outboxOf(ofIntent[1]!.id))[0]!
  expect((await runSubmission(dead.deps, placement.id, submitOrderSpec, control)).result).toBe('accepted')
  expect(operatorOrders(h.sandbox, w.wallet.address).map((o) => o.status).sort()).toEqual(['cancelled', 'open'])
  expect((await db.ordersOfIntent(w.order.intentId!)).map((o) => o.state)).toEqual(['cancelled', 'open'])
}

describe('a lost-answer Order resent and refused SessionUnauthorized (its session revoked since, the order cancelled there)', () => {
  it('events applied first (the session\'s end among them): not resent, nothing placed, the order stays cancelled, replaced once', async () => {
    const w = await placedBySessionRevokedSince()
    await w.applyOperatorEvents()
    expect((await runSubmission(dead.deps, w.outboxId, submitOrderSpec, control))).toEqual({ result: 'done', reason: 'order already cancelled' })
    expect(operatorOrders(h.sandbox, w.wallet.address)).toHaveLength(1)
    await endsReplacedOnce(w)
  })

  it('events applied after: the duplicate receipt records the order open, then its cancel replaces it once', async () => {
    const w = await placedBySessionRevokedSince()
    expect((await runSubmission(dead.deps, w.outboxId, submitOrderSpec, control))).toMatchObject({ result: 'accepted', duplicate: true })
    expect(operatorOrders(h.sandbox, w.wallet.address)).toHaveLength(1)
    expect((await db.order(w.order.id)).state).toBe('open')
    // The second's receipt is the first's (`duplicate`): the operator took the first, which is recorded accepted.
    expect((await db.requestsOf(w.order.id)).map((r) => `${r.status}:${r.errorCode}:${r.duplicate}`)).toEqual(['accepted:null:false', 'accepted:null:true'])
    await w.applyOperatorEvents()
    await endsReplacedOnce(w)
  })
})
