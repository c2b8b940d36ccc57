/**
 * Processor: submit an Order.
 * - Payload: `SubmitJobData` { outboxId, walletId, family: 'Order', orderId }.
 * - Reads: outbox row, orders row, the wallet's active session, earlier requests of this outbox row;
 *   the order at the operator (by cloid) when a stop keeps bytes whose answer was lost from being resent
 *   (a read that cannot be applied is not: alerted READ_UNAPPLIABLE, the order stays `unknown` for the sweep);
 *   for a replacement marked `readBack`, the order it replaces (its price and what it left unfilled).
 * - Writes: orders.state pending → submitting (compare-and-set), a `requests` row with the signed
 *   bytes *before* sending, then the receipt, the order's new state and outbox → done/failed/held;
 *   when a stored policy of the wallet lets it through, the order's `policy_passed_at` (it counts from then).
 *   A halted wallet, a CancelAll asked after the Order was queued, an intent cancelled or with a
 *   cancel queued, or a good-till time already passed stops the placement at the claim (also one
 *   claimed before but never signed; one queued before a halt is cancelled `halted` also once the
 *   wallet has resumed, a CancelAll the user asked for `cancelAll`); a halt committed after the claim stops it at its signature
 *   (`insertSignedRequests` locks the wallet row and persists nothing for a halted wallet; the claim,
 *   run again, cancels it `halted`); an Order accepted after the wallet was halted, or after such
 *   a CancelAll may have gone out, gets a CancelOrder (reason `halted` or `cancelAll`). Bytes another
 *   run of the job read before such a stop closed them and sent after it, if taken, make the order
 *   stopped here live again, with a CancelOrder at once (`cancelStoppedButPlaced`, audit `order.liveAtOperator`).
 * - Errors and retries: see `classifyVenueError`. Transport loss → order `unknown`, job retried with
 *   capped exponential backoff, and the retry resends the identical bytes. 503 → retried the same way.
 *   NonceReused/DeadlineExpired → re-signed with a fresh nonce. SessionUnauthorized/SignerMismatch →
 *   session marked, work held until a new session (a newer session already active: signed again under
 *   it at once, and the refused request recorded accepted if the new one's receipt is a duplicate,
 *   the cloid rule saying the operator took the first); unless the operator now verifies over another
 *   EIP-712 domain (`/v1/info` read again, `deliver`): then nothing is marked and the job waits. An active
 *   session whose stored key is not the delegated one (it unseals to another key than its public key, is
 *   corrupt, or is another session's: `sealedKeyIntegrity`) is quarantined and alerted (KEY_INTEGRITY)
 *   before anything is signed, as for SignerMismatch, and the work held until a new session. RateLimited (per session key) → that session's jobs
 *   wait out Retry-After as delayed jobs, then the same bytes. ACL violation and business rejections → terminal.
 *   Outside the active session's scope: held for a scope change (session maintenance rotates the
 *   session to one covering Order) when the wallet has a wallet signer, else failed `LOCAL.ACL_SCOPE`.
 * - Batched: Order jobs running together go first through `createBatchedOrders` (the same claim,
 *   persist-before-send and receipt, with the Postgres writes shared); whatever it does not handle
 *   comes here one by one, resuming from what it persisted.
 * - Idempotency key: the outbox id (BullMQ job id) and the order's cloid, derived from (intent, revision):
 *   the operator answers a second Order with the same cloid with the first receipt.
 */
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Hex } from 'viem'
import { formatAmount, parseAmount } from '../src/core/money/decimal.js'
import { checkedOrderRead } from '../src/runtime/checkedOrderRead.js'
import { readBackOrder } from '../src/runtime/submission/readBack.js'
import { valuesWithoutRead } from '../src/runtime/submission/valuesWithoutRead.js'
import type { FamilySpec } from '../src/runtime/submission/types.js'
import { lockOrder } from '../src/store/repositories/lockOrder.js'
import { mutateOrder } from '../src/store/repositories/mutateOrder.js'
import { cancelAllAfter, haltAfter } from '../src/store/repositories/cancelAllAfter.js'
import { queueLateCancels } from '../src/store/repositories/queueLateCancels.js'
import { LIVE_AT_OPERATOR, unfinishedCancelsOf } from '../src/store/repositories/unfinishedCancels.js'
import { audit } from '../src/store/repositories/audit.js'
import { walletHalted } from '../src/store/repositories/walletHalted.js'
import type { Db } from '../src/store/Database.js'
import { type OrderRow, intents, orders, outbox } from '../src/store/schema/index.js'

/**
 * The cancels queued for an order cancelled before its placement was sent took effect: they are
 * settled as such (what the user reads of them), and the reason of the first one due is the
 * order's (`user` when there is none).
 */
async function settleQueuedCancels(tx: Db, orderId: string): Promise<string> {
  // Due on Postgres's clock, which dates available_at (a good-till time not yet reached is not the reason).
  const settled = await tx.update(outbox).set({ status: 'done', lastError: 'cancelled before submission' })
    .where(unfinishedCancelsOf(orderId))
    .returning({ seq: outbox.seq, payload: outbox.payload, due: sql<boolean>`${outbox.availableAt} <= now()` })
  const due = settled.filter((row) => row.due).sort((a, b) => a.seq - b.seq)[0]
  return typeof due?.payload.reason === 'string' ? due.payload.reason : 'user'
}

/**
 * Why a placement must not go out now, if it must not: the wallet was halted, its intent was
 * cancelled or has a cancel queued, its good-till time has passed, or a CancelAll was asked after
 * it was queued. Asked at the claim and again before bytes signed earlier are resent or signed anew
 * (`stopsResend`): a placement that waited out a rate limit must not go out after the kill switch.
 */
async function placementStop(tx: Db, order: OrderRow): Promise<'halted' | 'intentCancelled' | 'cancelRequested' | 'goodTillPassed' | 'cancelAll' | null> {
  if (await walletHalted(tx, order.walletId)) return 'halted'
  if (order.intentId) {
    // The good-till time is compared on Postgres's clock, as the batched claim and the relay do: on this
    // worker's, one running behind would place the order after the time the user set.
    const [intent] = await tx.select({ status: intents.status, goodTillPassed: sql<boolean>`${intents.goodTill} <= now()` }).from(intents).where(eq(intents.id, order.intentId))
    if (intent?.status === 'cancelled') return 'intentCancelled'
    if (intent?.status === 'cancel_requested') return 'cancelRequested'
    // Placed now it would trade after the time the user said it must be gone by (a backed-up queue).
    if (intent?.goodTillPassed) return 'goodTillPassed'
  }
  if (!(await cancelAllAfter(tx, order.id))) return null
  // A halt's CancelAll (the wallet resumed since: a placement claimed before the halt and queued
  // again by reconciliation, say) stopped it, not a CancelAll the user asked for.
  return (await haltAfter(tx, order.id)) ? 'halted' : 'cancelAll'
}

const stopReasons = {
  halted: 'wallet halted',
  intentCancelled: 'intent cancelled',
  cancelRequested: 'cancelled before submission',
  goodTillPassed: 'its good-till time passed before it was sent',
  cancelAll: 'a CancelAll was asked after it was queued',
} as const

/**
 * A placement the claim stopped (cancelled here: halted, a cancel or a CancelAll asked, its good-till
 * time passed) whose bytes another run of the same work had read before the stop and sent after it
 * (a stalled job re-run beside the original): the operator took them. Recorded as the live order it
 * is there, and cancelled at once as reconciliation cancels an order it finds ended here and open
 * there (`liveAtOperator`: held for a scope change rather than failed). Reason `halted` on a halted
 * wallet, so a resume waits for it (`haltStillOnTheWire`); else the reason it was cancelled for.
 */
async function cancelStoppedButPlaced(tx: Db, order: OrderRow, requestId: string): Promise<void> {
  const state = parseAmount('filled', order.filled) > 0n ? 'partially_filled' : 'open'
  await tx.update(orders).set({ state, cancelReason: null }).where(eq(orders.id, order.id))
  const reason = (await walletHalted(tx, order.walletId)) ? 'halted' : (order.cancelReason ?? 'user')
  await tx.insert(outbox).values({ walletId: order.walletId, kind: 'CancelOrder', orderId: order.id, payload: { reason, [LIVE_AT_OPERATOR]: true } })
  await audit(tx, { walletId: order.walletId, actor: 'worker', action: 'order.liveAtOperator', details: { orderId: order.id, clientOrderId: order.clientOrderId, recorded: 'cancelled', requestId } })
}

/** What a replacement does without a usable read of the order it replaces. */
const PLACED_AS_HELD = "the replacement is placed at the price and size of the cancelled order's modify the operator may have taken, else those held here for it"

export const submitOrderSpec: FamilySpec<'Order'> = {
  family: 'Order',
  /**
   * A replacement for an order its session's end cancelled, when that order may have had a modify
   * accepted that Postgres has not applied (`readBack`, set by `replaceSessionOrder`): the cancelled
   * order is read back by cloid first (the operator still answers reads of a cancelled order, to any
   * live delegation of the wallet), and the replacement takes its price and what it left unfilled.
   * A modify of it still in flight follows the replacement (`followReplacement`) with the same
   * values, so nothing is applied twice. A failed read fails the attempt (BullMQ retries it); a read
   * that cannot be applied (`checkedOrderRead`: alerted READ_UNAPPLIABLE) is as none, as when the
   * operator does not know the order (retried, it would fail every attempt, and the replacement never
   * be placed): the replacement goes out at what stands in for the read (`valuesWithoutRead`), the
   * values of a modify the operator may have taken, else those stored now for the cancelled order.
   */
  async beforeClaim(ctx, session) {
    const { deps, row, order } = ctx
    const replaces = row.payload.replaces
    if (row.payload.readBack !== true || typeof replaces !== 'string' || !order || (order.state !== 'pending' && order.state !== 'submitting')) return ctx
    const [cancelled] = await deps.db.select({ clientOrderId: orders.clientOrderId }).from(orders).where(eq(orders.id, replaces))
    const checked = cancelled && (await checkedOrderRead(deps, deps.sessions.readAuth(session), { walletId: row.walletId, clientOrderId: cancelled.clientOrderId as Hex, instead: PLACED_AS_HELD }))
    const read = typeof checked === 'object' ? checked : undefined
    return deps.db.transaction(async (tx) => {
      const remaining = read ? parseAmount('size', read.size) - parseAmount('filled', read.filled) : 0n
      const values = read ? (remaining > 0n ? { price: parseAmount('price', read.price), size: remaining } : undefined) : await valuesWithoutRead(tx, replaces, order)
      if (values) {
        await tx.update(orders).set({ price: formatAmount(values.price), size: formatAmount(values.size) })
          .where(and(eq(orders.id, order.id), inArray(orders.state, ['pending', 'submitting'])))
      }
      const { readBack: _readBack, ...payload } = row.payload
      await tx.update(outbox).set({ payload }).where(eq(outbox.id, row.id))
      const [current] = await tx.select().from(orders).where(eq(orders.id, order.id))
      return { ...ctx, row: { ...row, payload }, order: current }
    })
  },
  async claim(tx, { order: loaded }) {
    // Decided on the order as it is under its lock, which a cancel asked meanwhile holds while it
    // marks the intent: read before that cancel committed, the checks below would let it be placed.
    const order = loaded && (await lockOrder(tx, { id: loaded.id }))
    if (!order) return { kind: 'done', reason: 'order row missing' }
    // Below, `submitting` is an order an earlier attempt claimed but never signed (a claim is only
    // reached with no request to resend), e.g. one that waited out a rate limit: never sent either.
    const unsent = and(eq(orders.id, order.id), inArray(orders.state, ['pending', 'submitting']))
    const stop = await placementStop(tx, order)
    switch (stop) {
      case 'halted':
        // The kill switch stops placements that were queued before it tripped.
        await tx.update(orders).set({ state: 'cancelled', cancelReason: 'halted' }).where(unsent)
        break
      case 'intentCancelled':
        // A compromise (or a halt) cancelled the intent while this placement waited for a session.
        await tx.update(orders).set({ state: 'cancelled', cancelReason: 'intentCancelled' }).where(unsent)
        break
      case 'cancelRequested': {
        // A cancel queued behind this placement (a user's, a schedule's) while it waited: it is never sent.
        const cancelled = await tx.update(orders).set({ state: 'cancelled' }).where(unsent).returning({ id: orders.id })
        if (cancelled.length) {
          await tx.update(orders).set({ cancelReason: await settleQueuedCancels(tx, order.id) }).where(eq(orders.id, order.id))
          await tx.update(intents).set({ status: 'cancelled' }).where(eq(intents.id, order.intentId!))
        }
        break
      }
      case 'goodTillPassed': {
        // Never sent: cancelled here as its good-till cancel, which is settled with it, would have.
        const cancelled = await tx.update(orders).set({ state: 'cancelled', cancelReason: 'goodTill' }).where(unsent).returning({ id: orders.id })
        if (cancelled.length) {
          await settleQueuedCancels(tx, order.id)
          await tx.update(intents).set({ status: 'cancelled' }).where(eq(intents.id, order.intentId!))
        }
        break
      }
      case 'cancelAll':
        // The user asked to cancel everything after this was queued: it is never sent.
        await tx.update(orders).set({ state: 'cancelled', cancelReason: 'cancelAll' }).where(unsent)
        break
    }
    if (stop) return { kind: 'done', reason: stopReasons[stop] }
    // Compare-and-set: only one attempt moves the order to submitting; a crashed attempt that
    // claimed but never persisted a request may claim again, and so may an `unknown` order whose
    // request could not be resent (its delegation ended): the same cloid cannot place twice.
    // An adopted orphan (its time in force unknown: the operator's read does not give it) is the
    // operator's order, never one Deputy places.
    if (order.timeInForce === null) return { kind: 'done', reason: 'an adopted order is never placed by Deputy' }
    const claimed = await tx.update(orders).set({ state: 'submitting', sessionId: null })
      .where(and(eq(orders.id, order.id), inArray(orders.state, ['pending', 'submitting', 'unknown'])))
      .returning({ id: orders.id })
    if (claimed.length === 0) return { kind: 'done', reason: `order already ${order.state}` }
    return {
      kind: 'proceed',
      fields: {
        market: order.market,
        side: order.side,
        price: parseAmount('price', order.price),
        size: parseAmount('size', order.size),
        timeInForce: order.timeInForce,
        clientOrderId: order.clientOrderId as Hex,
      },
      policy: { market: order.market, side: order.side, price: parseAmount('price', order.price), size: parseAmount('size', order.size) },
    }
  },
  async stopsResend(tx, { order }) {
    const stop = order ? await placementStop(tx, order) : null
    return stop ? stopReasons[stop] : null
  },
  async unclaim(tx, { order }) {
    if (order) await tx.update(orders).set({ state: 'pending' }).where(and(eq(orders.id, order.id), eq(orders.state, 'submitting')))
  },
  async onAccepted(tx, { order }, { receipt, request, closedBefore }) {
    if (!order) return
    const changed = await mutateOrder(tx, { id: order.id }, [{ kind: 'accepted', venueOrderId: receipt.orderId }])
    await tx.update(orders).set({ sessionId: request.sessionId }).where(eq(orders.id, order.id))
    if (closedBefore && changed?.after.state === 'cancelled') return cancelStoppedButPlaced(tx, changed.after, request.id)
    await queueLateCancels(tx, [order.id])
  },
  async onRejected(tx, { order }, code, message) {
    if (!order) return
    await mutateOrder(tx, { id: order.id }, [{ kind: 'rejected', code }])
    await tx.update(orders).set({ rejectReason: message.slice(0, 500) }).where(and(eq(orders.id, order.id), eq(orders.state, 'rejected')))
  },
  async onUnknown(tx, { order }) {
    if (order) await mutateOrder(tx, { id: order.id }, [{ kind: 'unknown' }])
  },
  async onNotResent({ deps, row, order }, session) {
    // A cancel queued for the order waits while its outcome is unknown, and the order may be live at
    // the operator: read it now (the stream may be down too) rather than at the next reconciliation.
    // Not found proves nothing yet (the lost bytes may still arrive before their deadline).
    if (!order) return
    // The lost bytes may have landed after the halt's (or a CancelAll's) cancel: queue the same
    // CancelOrder an accepted receipt would have got. It waits while the order is unknown, and
    // settles locally if reconciliation finds it never placed.
    await queueLateCancels(deps.db, [order.id])
    if (!session) return
    await readBackOrder(deps, session, row.walletId, order.clientOrderId as Hex)
      .catch((error: unknown) => deps.log.warn({ err: error, orderId: order.id }, 'read-back of an unknown order failed; reconciliation will resolve it'))
  },
}
