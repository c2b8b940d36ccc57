/**
 * A submission that reads an order back from the operator checks the read as the reconciliation
 * sweep does (`checkedOrderRead`): a malformed one (a price of zero, a negative `filled`, a `filled`
 * above the size) is not applied, nothing of it is stored, it is alerted READ_UNAPPLIABLE as the
 * sweep alerts it, and the work goes on as with no usable read: an Order whose answer was lost stays
 * `unknown` for the sweep, a ModifyOrder whose answer was lost is signed again, a replacement is
 * placed at the values held here (a modify sent behind the worker's back is not among them; one of
 * the worker's own whose answer was lost is: replacementAfterLostModify.test.ts). The sandbox
 * answers the malformed reads (`readOverrides` fault).
 * Except for the replacement (a live worker, streams on), no processors run: each run of a job is
 * the test's (`runSubmission` with a closed worker's adapters).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import { and, eq } from 'drizzle-orm'
import type { Hex } from 'viem'
import { submitModifyOrderSpec } from '../../jobs/submitModifyOrder.js'
import { submitOrderSpec } from '../../jobs/submitOrder.js'
import { requestCancel } from '../../src/runtime/intake/requestOrderChange.js'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import { events, sessions } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { grant, openWithSession, place, settled } from '../lifecycle/support/lifecycle.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder, revokeBehindTheWorkersBack, sendWithSessionKey } from './support/operator.js'
import { rows } from './support/rows.js'
import { failOnDelay, modifyFailing, openOrder, restingOrder, runFailing } from './support/stoppedWorker.js'

let h: Harness
let db: ReturnType<typeof rows>
let dead: RunningWorker
const alerts: { walletId: string; code: string; message: string; details?: Record<string, unknown> }[] = []
const control = failOnDelay

beforeAll(async () => {
  h = await createHarness()
  db = rows(h.db)
  // A stopped worker: its adapters remain, its loops and processors do not run.
  dead = await h.startWorker({ streams: false, alert: (event) => { alerts.push(event) } })
  await dead.close()
})
afterAll(async () => { await h?.close() })

const unappliable = (walletId: string) => alerts.filter((a) => a.walletId === walletId && a.code === 'READ_UNAPPLIABLE').map((a) => a.details)

/** An order placed at the operator whose answer was lost: `unknown` here, open there. */
async function placedAnswerLost(walletId: string, address: string) {
  const { order, placementId } = await restingOrder(h, dead, walletId)
  await runFailing(h, dead, placementId, 'dropAfterAccept', submitOrderSpec)
  expect((await db.order(order.id)).state).toBe('unknown')
  expect(operatorOrder(h.sandbox, address, order.clientOrderId)?.status).toBe('open')
  return { order, placementId }
}

describe('an Order whose answer was lost, then cancelled (not resent: its read-back)', () => {
  it('a malformed read-back is not applied and is alerted; the order stays unknown until a usable read resolves it', async () => {
    const { wallet } = await h.wallet()
    const { order, placementId } = await placedAnswerLost(wallet.id, wallet.address)
    const cloid = order.clientOrderId.toLowerCase()
    h.sandbox.setFaults({ readOverrides: { [cloid]: { price: '0' } } })
    try {
      await requestCancel(h.db, { orderId: order.id })
      expect(await runSubmission(dead.deps, placementId, submitOrderSpec, control)).toEqual({ result: 'done', reason: 'not resent: cancelled before submission' })
      const after = await db.order(order.id)
      expect([after.state, Number(after.price), after.venueOrderId]).toEqual(['unknown', 1990, null])
      expect(unappliable(wallet.id)).toEqual([{ clientOrderId: cloid, problem: 'price: must be greater than zero' }])
      expect(alerts.find((a) => a.walletId === wallet.id)?.message).toBe(`the operator's read of order ${cloid} cannot be applied and was passed over: price: must be greater than zero; nothing of it is stored: the order is left as it is here, and the next sweep reads it again`)
      await eventually(async () => (await db.audit(wallet.id, 'alert.READ_UNAPPLIABLE')).length === 1)
    } finally {
      h.sandbox.setFaults({ readOverrides: {} })
    }
    // Read right, the sweep resolves it.
    // The sweep is the test's: a closed worker's deps say it is stopping (`stopping`), which ends a sweep at once.
    const sweep = await reconcile({ ...dead.deps, stopping: new AbortController().signal }, { walletId: wallet.id, orphans: 'adopt', settleMs: 0 })
    expect(sweep).toMatchObject({ failures: 0, wallets: 1 })
    expect(sweep.stopped).toBeUndefined()
    const resolved = await db.order(order.id)
    expect([resolved.state, Number(resolved.price)]).toEqual(['open', 1990])
  })

  it('a read whose filled exceeds its size is not applied either: the order is not marked filled with nothing filled', async () => {
    const { wallet } = await h.wallet()
    const { order, placementId } = await placedAnswerLost(wallet.id, wallet.address)
    const cloid = order.clientOrderId.toLowerCase()
    h.sandbox.setFaults({ readOverrides: { [cloid]: { status: 'filled', filled: '5' } } })
    try {
      await requestCancel(h.db, { orderId: order.id })
      expect(await runSubmission(dead.deps, placementId, submitOrderSpec, control)).toMatchObject({ result: 'done' })
      expect((await db.order(order.id)).state).toBe('unknown')
      expect(unappliable(wallet.id)).toEqual([{ clientOrderId: cloid, problem: 'filled: must not exceed the size (5 > 0.5)' }])
    } finally {
      h.sandbox.setFaults({ readOverrides: {} })
    }
  })
})

/**
 * An open order, and a ModifyOrder of it the operator took whose answer was lost; then the session
 * that signed it ended (here as far as the worker knows: the operator still has the order open) and
 * another was granted. The modify's bytes are not resent: the order is read back (`tookEffect`).
 */
async function modifiedAnswerLostSessionEnded() {
  const w = await h.wallet()
  const order = await openOrder(h, dead, w.wallet.id)
  const outboxId = await modifyFailing(h, dead, order.id, 'dropAfterAccept')
  expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'open', revision: 1 })
  await grant(h, w)
  await h.db.update(sessions).set({ status: 'revoked' }).where(eq(sessions.id, w.session.id))
  return { ...w, order, outboxId }
}

describe('a ModifyOrder whose answer was lost and whose session ended (read back to tell whether it took effect)', () => {
  it('a usable read showing the modify: done as accepted and recorded from that one read of the order', async () => {
    const { order, outboxId } = await modifiedAnswerLostSessionEnded()
    let reads = 0
    const venue = { ...dead.deps.venue, order: (...args: Parameters<typeof dead.deps.venue.order>) => { reads++; return dead.deps.venue.order(...args) } }
    const result = await runSubmission({ ...dead.deps, venue }, outboxId, submitModifyOrderSpec, control)
    const modifies = (await db.requestsOf(order.id)).filter((r) => r.family === 'ModifyOrder')
    expect(modifies.map((r) => `${r.status}:${r.errorCode}`)).toEqual(['accepted:null'])
    expect(result).toEqual({ result: 'accepted', duplicate: true, requestId: modifies[0]!.id })
    expect(reads).toBe(1)
    const stored = await db.order(order.id)
    expect([stored.state, Number(stored.price), Number(stored.size), stored.venueRevision]).toEqual(['open', 1985, 0.6, 1])
  })

  it('a malformed read is not taken as the modify applied, nor stored: alerted, and the modify is signed again under the current session', async () => {
    const { wallet, order, outboxId } = await modifiedAnswerLostSessionEnded()
    const cloid = order.clientOrderId.toLowerCase()
    h.sandbox.setFaults({ readOverrides: { [cloid]: { filled: '-1' } } })
    try {
      const result = await runSubmission(dead.deps, outboxId, submitModifyOrderSpec, control)
      const modifies = (await db.requestsOf(order.id)).filter((r) => r.family === 'ModifyOrder')
      expect(modifies.map((r) => `${r.status}:${r.errorCode}`)).toEqual(['rejected:LOCAL.SESSION_ENDED', 'accepted:null'])
      expect(result).toEqual({ result: 'accepted', duplicate: false, requestId: modifies[1]!.id })
      expect(unappliable(wallet.id)).toContainEqual({ clientOrderId: cloid, problem: 'filled: must not be negative' })
    } finally {
      h.sandbox.setFaults({ readOverrides: {} })
    }
    const stored = await db.order(order.id)
    expect([stored.state, Number(stored.price), Number(stored.size), Number(stored.filled)]).toEqual(['open', 1985, 0.6, 0])
  })
})

/**
 * A replacement for an order its session's end cancelled reads that order back before it is placed,
 * when the operator may hold a modify of it Postgres has not applied (here one sent behind the
 * worker's back, whose OrderModified carries no fields: `protocolEventData`). A live worker, streams on.
 */
describe('a replacement whose cancelled order reads back malformed', () => {
  it('is placed at the price and size held here, once, with the read alerted and not applied', async () => {
    h.sandbox.setFaults({ protocolEventData: true })
    const worker = await h.startWorker({ walletSignerFor: () => undefined, maintenanceIntervalMs: 3_600_000, alert: (event) => { alerts.push(event) } })
    try {
      const w = await h.wallet()
      const order = await place(h, worker, w.wallet.id)
      await settled(h.db, order.id, 'open')
      const cloid = order.clientOrderId.toLowerCase()
      // The wallet's stream is open.
      await eventually(async () => (await h.db.select().from(events).where(eq(events.walletId, w.wallet.id))).length > 0)
      h.sandbox.setFaults({ readOverrides: { [cloid]: { filled: '-0.1' } } })
      const modified = await sendWithSessionKey(worker.deps, w.wallet.id, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: order.clientOrderId as Hex, price: 1910n * 10n ** 18n, size: 2n * 10n ** 17n })
      expect(modified.status).toBe(200)
      await eventually(async () => (await h.db.select().from(events).where(and(eq(events.walletId, w.wallet.id), eq(events.type, 'OrderModified')))).length > 0)
      expect((await revokeBehindTheWorkersBack(worker.deps, w.wallet.id)).status).toBe(200)
      const replacedBy = await eventually(async () => (await db.order(order.id)).replacedBy)
      expect((await db.outboxOf(replacedBy))[0]?.payload).toEqual({ replaces: order.id, readBack: true })

      await grant(h, w)
      const replacement = await openWithSession(h.db, replacedBy)
      expect([Number(replacement.price), Number(replacement.size)]).toEqual([1900, 0.1])
      const [placement] = await db.outboxOf(replacedBy)
      expect(placement).toMatchObject({ status: 'done', payload: { replaces: order.id } })
      // The malformed read failed no attempt (a loaded host may fail one for its own reasons, e.g. an
      // operator timeout: each failure's reason is kept in the job's stack traces).
      const job = await worker.submitQueue.getJob(placement!.id)
      expect((job?.stacktrace ?? []).filter((trace) => /filled|unappliable|cannot be applied|malformed/i.test(trace)), JSON.stringify(job?.stacktrace)).toEqual([])
      expect(job?.finishedOn).toBeGreaterThan(0)
      expect(alerts.filter((a) => a.walletId === w.wallet.id && a.code === 'READ_UNAPPLIABLE').map((a) => a.message)).toContain(
        `the operator's read of order ${cloid} cannot be applied and was passed over: filled: must not be negative; the replacement is placed at the price and size of the cancelled order's modify the operator may have taken, else those held here for it`,
      )
    } finally {
      h.sandbox.setFaults({ readOverrides: {}, protocolEventData: false })
      await worker.close()
    }
  })
})
