/**
 * Processor: submit a CancelOrder.
 * - Payload: `SubmitJobData` { outboxId, walletId, family: 'CancelOrder', orderId }.
 * - Reads: outbox row (waits for earlier requests of the same order, except modifies: a cancel
 *   never waits for one; and for the order's other cancels due before it, whatever their seq),
 *   orders row (locked, as it is at the claim), active session.
 * - Writes: an order never sent (its placement still pending or held) is cancelled locally, and its
 *   placement settled (held, pending or relayed with its job not run yet), without any request; otherwise a `requests` row with the signed bytes
 *   before sending, then the order → cancelled (the outbox payload's reason: `user`, `goodTill`, `halted`…);
 *   outbox → done/failed/held. On a halted wallet whose session can CancelAll but not CancelOrder, a
 *   CancelAll of the order's market (a halt's) is queued instead, and this cancel settled done. A
 *   reconciler's cancel (`isReconcilerCancel`: an orphan's, payload reason `orphan`, or an order's
 *   recorded ended here and listed open, payload flag `liveAtOperator`) whose session's scope has no
 *   CancelOrder is held for a scope change (`holdsForScope`), with or without a wallet signer, its
 *   note saying what it is and what releases it; any other cancel fails out of scope.
 * - Errors and retries: as every submission (`runSubmission`); UnknownOrder → read back by cloid
 *   (it filled or was cancelled meanwhile) and recorded; a read that cannot be applied is not
 *   (`readBackOrder`: alerted READ_UNAPPLIABLE), and the cancel is done as the operator answered.
 *   A request refused SessionUnauthorized after an earlier send's answer was lost, signed again
 *   under a newer session and answered UnknownOrder, is recorded accepted when the order reads back
 *   cancelled and nothing else explains it (`tookEffectBeforeNotOpen`).
 * - Idempotency key: the outbox id. One CancelOrder of an order at a time: one that finds the order
 *   cancelled by another (a good-till cancel after its user's) stands down, audit `CancelOrder.stoodDown`.
 */
import { and, desc, eq, exists, inArray, ne } from 'drizzle-orm'
import type { Db } from '../src/store/Database.js'
import type { Hex } from 'viem'
import { liveOrderStates } from '../src/core/orders/orderState.js'
import { readBackOrder } from '../src/runtime/submission/readBack.js'
import type { Claim, FamilySpec } from '../src/runtime/submission/types.js'
import { covers } from '../src/core/acl/covers.js'
import { audit } from '../src/store/repositories/audit.js'
import { walletHalted } from '../src/store/repositories/walletHalted.js'
import { mutateOrder } from '../src/store/repositories/mutateOrder.js'
import { ORPHAN_CANCEL_REASON, cancelsAheadOf, isReconcilerCancel } from '../src/store/repositories/unfinishedCancels.js'
import { type OrderRow, intents, orders, outbox, requests, sessions } from '../src/store/schema/index.js'

export const submitCancelOrderSpec: FamilySpec<'CancelOrder'> = {
  family: 'CancelOrder',
  settlesHeldWork: true,
  // The reconciler's cancel of an order live at the operator (an orphan's, ORPHAN_POLICY=cancel, or
  // one recorded ended here) under a scope without CancelOrder: failed, it would leave the order
  // live there, seen by nobody (one the user cancelled could still fill). Held, session maintenance
  // rotates the scope to add CancelOrder (or, with no wallet signer, alerts SESSION_SCOPE until someone does).
  // Said first in its held note, which the user reads (the order's work in the API): the order shows
  // `open` as the operator has it, though its user may have been told it was cancelled.
  holdsForScope: ({ row }) => {
    if (!isReconcilerCancel(row.payload)) return null
    if (row.payload.reason === ORPHAN_CANCEL_REASON) return 'an order Deputy did not place that the operator lists open (ORPHAN_POLICY=cancel): this cancel takes it down there'
    const reason = row.payload.reason
    const recorded = typeof reason === 'string' && reason !== 'reconcile' ? `recorded cancelled here (${reason})` : 'recorded ended here'
    return `the operator still lists this order open though it was ${recorded}: this cancel takes it down there`
  },
  async claim(tx, { row, order: loaded }) {
    if (!loaded) return { kind: 'done', reason: 'order row missing' }
    // Decided on the order as it is now, not as the job found it: a placement held for a session
    // meanwhile has been unclaimed back to pending (a stale 'submitting' would hold this cancel
    // behind it, and the order would be placed, then cancelled, once a session came).
    const [order] = await tx.select().from(orders).where(eq(orders.id, loaded.id)).for('update')
    if (!order) return { kind: 'done', reason: 'order row missing' }
    if (order.state === 'pending') {
      // Never sent: cancel it here, and settle its placement so it is never sent: held, waiting to be
      // relayed, or relayed with its job not run yet (which then finds its row done and does nothing;
      // left, the order showed its placement queued until that job ran, then settled "intent cancelled").
      const reason = typeof row.payload.reason === 'string' ? row.payload.reason : 'user'
      const cancelled = await tx.update(orders).set({ state: 'cancelled', cancelReason: reason })
        .where(and(eq(orders.id, order.id), eq(orders.state, 'pending'))).returning({ id: orders.id })
      if (cancelled.length) {
        await tx.update(outbox).set({ status: 'done', lastError: 'cancelled before submission' })
          .where(and(eq(outbox.orderId, order.id), eq(outbox.kind, 'Order'), inArray(outbox.status, ['held', 'pending', 'enqueued'])))
        if (order.intentId) await tx.update(intents).set({ status: 'cancelled' }).where(eq(intents.id, order.intentId))
        return { kind: 'done', reason: 'cancelled before submission' }
      }
      return { kind: 'wait', reason: 'the order is being submitted' }
    }
    if (order.state === 'submitting' || order.state === 'unknown') return { kind: 'wait', reason: 'the order is not acknowledged yet' }
    if (!liveOrderStates.includes(order.state)) return endedAlready(tx, row.id, order)
    // Decided under the order's lock, which a user's cancel takes before it is queued: another
    // cancel of the order due first (the user's, when this is the good-till's) is queued, held or on
    // the wire, and a second CancelOrder would reach the operator after it, to be refused. This one
    // waits for it: stands down once it has cancelled the order, goes out if it failed for good.
    const [ahead] = await tx.select({ id: outbox.id }).from(outbox).where(cancelsAheadOf({ id: row.id, orderId: order.id })).limit(1)
    if (ahead) return { kind: 'wait', reason: `cancel ${ahead.id} of the order goes first` }
    const instead = await cancelAllInstead(tx, order)
    if (instead) return { kind: 'done', reason: instead }
    return { kind: 'proceed', fields: { market: order.market, clientOrderId: order.clientOrderId as Hex }, policy: { market: order.market } }
  },
  async onAccepted(tx, { row, order }) {
    if (!order) return
    const reason = typeof row.payload.reason === 'string' ? row.payload.reason : 'user'
    await mutateOrder(tx, { id: order.id }, [{ kind: 'cancelled', reason }])
    // The operator's event says `user` for every CancelOrder and may be applied first; the worker
    // knows why it sent this one (good-till expiry, kill switch, orphan), which is what a user reads.
    if (reason !== 'user') await tx.update(orders).set({ cancelReason: reason }).where(and(eq(orders.id, order.id), eq(orders.state, 'cancelled')))
    if (order.intentId) await tx.update(intents).set({ status: 'cancelled' }).where(eq(intents.id, order.intentId))
  },
  async onRejected(tx, { row }, code, message) {
    await audit(tx, { walletId: row.walletId, actor: 'worker', action: 'CancelOrder.rejected', details: { orderId: row.orderId, code, message } })
  },
  async onNotOpen({ deps, row, order }, session) {
    if (session && order) await readBackOrder(deps, session, row.walletId, order.clientOrderId as Hex)
  },
  // Read back cancelled: this cancel, or the end of the session that placed the order (which
  // cancels its orders), did it. Only when that session is not the refused one and has not ended
  // here, and the stream has given no other reason, is the cancel known to have done it.
  async tookEffectBeforeNotOpen({ deps, order: loaded }, refused) {
    if (!loaded) return false
    const [order] = await deps.db.select({ state: orders.state, cancelReason: orders.cancelReason, sessionId: orders.sessionId }).from(orders).where(eq(orders.id, loaded.id))
    if (order?.state !== 'cancelled' || !order.sessionId || order.sessionId === refused.sessionId) return false
    if (order.cancelReason !== null && order.cancelReason !== 'user') return false
    const [placedBy] = await deps.db.select({ status: sessions.status }).from(sessions).where(eq(sessions.id, order.sessionId))
    return placedBy?.status === 'active' || placedBy?.status === 'rotating'
  },
}

/**
 * The order has ended: nothing to send. Cancelled by another cancel of the order that went out (a
 * user's before its good-till time, say), this one stands down for it (audit `CancelOrder.stoodDown`).
 */
async function endedAlready(tx: Db, outboxId: string, order: OrderRow): Promise<Claim<'CancelOrder'>> {
  if (order.state !== 'cancelled') return { kind: 'done', reason: `order already ${order.state}` }
  const [other] = await tx.select({ id: outbox.id }).from(outbox)
    .where(and(eq(outbox.orderId, order.id), eq(outbox.kind, 'CancelOrder'), eq(outbox.status, 'done'), ne(outbox.id, outboxId),
      exists(tx.select({ id: requests.id }).from(requests).where(and(eq(requests.outboxId, outbox.id), eq(requests.status, 'accepted'))))))
    .orderBy(desc(outbox.seq)).limit(1)
  if (!other) return { kind: 'done', reason: 'order already cancelled' }
  return { kind: 'done', reason: `stood down: the order was cancelled by cancel ${other.id} (reason ${order.cancelReason ?? 'unknown'})`, standsDownFor: other.id }
}

/**
 * A halted wallet's order whose session can CancelAll but not CancelOrder (the user chose the
 * scope): say one that reached the operator after the halt's CancelAll. Refused here it would stay
 * live after the halt; a CancelAll of its market is queued instead, as a halt's (reason
 * `killSwitch`): the wallet is halted, so nothing there is to stay live, and a resume waits for it.
 * Answers why this cancel is settled, or null when it is to be sent as it is.
 */
async function cancelAllInstead(tx: Db, order: OrderRow): Promise<string | null> {
  const [session] = await tx.select({ aclScope: sessions.aclScope }).from(sessions)
    .where(and(eq(sessions.walletId, order.walletId), eq(sessions.status, 'active'))).limit(1)
  if (!session || covers(session.aclScope, 'CancelOrder') || !covers(session.aclScope, 'CancelAll')) return null
  if (!(await walletHalted(tx, order.walletId))) return null
  const [row] = await tx.insert(outbox).values({ walletId: order.walletId, kind: 'CancelAll', payload: { market: order.market, reason: 'killSwitch' } }).returning({ id: outbox.id })
  await audit(tx, { walletId: order.walletId, actor: 'worker', action: 'CancelOrder.asCancelAll', details: { orderId: order.id, market: order.market, scope: session.aclScope, outboxId: row!.id } })
  return `the session's scope [${session.aclScope.join(', ')}] has no CancelOrder: the wallet is halted, a CancelAll of ${order.market} (work ${row!.id}) queued instead`
}
