/**
 * A ModifyOrder the operator took whose answer was lost, signed by a session that the operator has
 * ended since (revoked: a user revoking a rotated-out session) while Postgres still holds it usable
 * (`rotating`), of an order another session placed (so the order outlives the revocation). Resent,
 * the same bytes are refused SessionUnauthorized: that says nothing of the first send, which the
 * operator applied. The order is read back (`tookEffect`) before anything is signed again: signed
 * again blindly, the modify would be applied twice (found by the drill: revision 1, then 2).
 * No processors run: each run of the job is the test's (`runSubmission` with a closed worker's adapters).
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { submitModifyOrderSpec } from '../../jobs/submitModifyOrder.js'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import { requests, sessions } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { grant } from '../lifecycle/support/lifecycle.js'
import type { Harness } from './support/harness.js'
import { operatorOrder, revokeBehindTheWorkersBack } from './support/operator.js'
import type { rows } from './support/rows.js'
import { failOnDelay, modifyFailing, openOrder, stoppedWorkerHarness } from './support/stoppedWorker.js'

let h: Harness
let db: ReturnType<typeof rows>
let dead: RunningWorker
const control = failOnDelay

beforeAll(async () => { ({ h, db, dead } = await stoppedWorkerHarness()) })
afterAll(async () => { await h?.close() })

/**
 * S1 places the order; S2 (a rotation) signs the modify, which the operator applies (revision 1)
 * and whose answer is lost; then S2 is revoked at the operator behind the worker's back. The order,
 * S1's, stays open there.
 */
async function modifiedBySessionRevokedSince() {
  const w = await h.wallet()
  const order = await openOrder(h, dead, w.wallet.id)
  const { session: s2 } = await grant(h, w)
  const outboxId = await modifyFailing(h, dead, order.id, 'dropAfterAccept')
  const [modify] = (await db.requestsOf(order.id)).filter((r) => r.family === 'ModifyOrder')
  expect([modify!.status, modify!.sessionId]).toEqual(['unknown', s2.id])
  expect((await revokeBehindTheWorkersBack(dead.deps, w.wallet.id)).status).toBe(200)
  expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'open', revision: 1 })
  return { ...w, order, outboxId, s2 }
}

const modifiesOf = async (orderId: string) => (await db.requestsOf(orderId)).filter((r) => r.family === 'ModifyOrder')

/** The job run again reads the modify back: accepted with its first request, nothing signed again, the operator at revision 1 and Postgres at the modify's values. */
async function readBackAccepted(w: Awaited<ReturnType<typeof modifiedBySessionRevokedSince>>) {
  const result = await runSubmission(dead.deps, w.outboxId, submitModifyOrderSpec, control)
  const modifies = await modifiesOf(w.order.id)
  expect(modifies.map((r) => `${r.status}:${r.sessionId === w.s2.id ? 's2' : 'other'}`)).toEqual(['accepted:s2'])
  expect(result).toEqual({ result: 'accepted', duplicate: true, requestId: modifies[0]!.id })
  expect(operatorOrder(h.sandbox, w.wallet.address, w.order.clientOrderId)).toMatchObject({ status: 'open', revision: 1 })
  const stored = await db.order(w.order.id)
  expect([stored.state, Number(stored.price), Number(stored.size), stored.venueRevision]).toEqual(['open', 1985, 0.6, 1])
}

describe('a lost-answer ModifyOrder resent and refused SessionUnauthorized (its session revoked since)', () => {
  it('with a newer session: read back, done as accepted, not signed again (the operator keeps revision 1)', async () => {
    const w = await modifiedBySessionRevokedSince()
    // Rotated again: S2 is rotating here (usable until its grace ends), S3 active.
    await grant(h, w)
    expect((await h.db.select({ status: sessions.status }).from(sessions).where(eq(sessions.id, w.s2.id)))[0]?.status).toBe('rotating')
    await readBackAccepted(w)
  })

  it('the same when no outcome was ever stored (a crash right after the send: signed, no error)', async () => {
    const w = await modifiedBySessionRevokedSince()
    const [modify] = await modifiesOf(w.order.id)
    await h.db.update(requests).set({ status: 'signed', errorCode: null, errorMessage: null }).where(eq(requests.id, modify!.id))
    await grant(h, w)
    await readBackAccepted(w)
  })

  it('with no session left: held with the request still open, and read back (not signed again) once a session is granted', async () => {
    const w = await modifiedBySessionRevokedSince()
    const held = await runSubmission(dead.deps, w.outboxId, submitModifyOrderSpec, control)
    expect(held).toMatchObject({ result: 'held' })
    // Refused, but these bytes may have been taken by an earlier send: not closed as never accepted.
    expect((await modifiesOf(w.order.id)).map((r) => r.status)).toEqual(['unknown'])
    await grant(h, w)
    await readBackAccepted(w)
  })

  it('its session known ended before the job runs again, and no session active: held unsent with the request open, read back once a session is granted', async () => {
    const w = await modifiedBySessionRevokedSince()
    // The worker learned of the revocation (the stream's SessionRevoked): S2 ended here too, S1 rotating, none active.
    await h.db.update(sessions).set({ status: 'revoked' }).where(eq(sessions.id, w.s2.id))
    const held = await runSubmission(dead.deps, w.outboxId, submitModifyOrderSpec, control)
    expect(held).toMatchObject({ result: 'held' })
    expect((await modifiesOf(w.order.id)).map((r) => r.status)).toEqual(['unknown'])
    await grant(h, w)
    await readBackAccepted(w)
  })

  it('one the operator never took (refused before the revocation, its answer lost): signed again under the new session and applied once', async () => {
    const w = await h.wallet()
    const order = await openOrder(h, dead, w.wallet.id)
    const { session: s2 } = await grant(h, w)
    // Signed and persisted under S2, every answer a 503: never taken.
    const outboxId = await modifyFailing(h, dead, order.id, 'errorRate')
    expect((await revokeBehindTheWorkersBack(dead.deps, w.wallet.id)).status).toBe(200)
    const { session: s3 } = await grant(h, w)
    const result = await runSubmission(dead.deps, outboxId, submitModifyOrderSpec, control)
    const modifies = await modifiesOf(order.id)
    expect(modifies.map((r) => `${r.status}:${r.sessionId === s3.id ? 's3' : r.sessionId === s2.id ? 's2' : '?'}`)).toEqual(['rejected:s2', 'accepted:s3'])
    expect(result).toMatchObject({ result: 'accepted', duplicate: false })
    expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'open', revision: 1, price: 1985n * 10n ** 18n })
  })
})
