/**
 * Processor: submit a ModifyOrder (new price and/or size, same cloid).
 * - Payload: `SubmitJobData` { outboxId, walletId, family: 'ModifyOrder', orderId }; the outbox
 *   row's payload carries `{ price, size }` as decimal strings.
 * - Reads: outbox row (and earlier rows for the same order: it waits until the Order is answered),
 *   orders row, active session.
 * - Writes: a `requests` row with the signed bytes before sending; on accept the order's price, size
 *   and revision; outbox → done/failed/held; when a stored policy of the wallet lets it
 *   through, the outbox row's and the order's `policy_passed_at` (it counts at its notional from then). An order that filled or was cancelled meanwhile is
 *   answered `done` with the reason "order <state>: modification not applied" (audit + outbox; one asked
 *   before the order was sent, whose values its placement took, says so), one
 *   of a wallet halted meanwhile (even if resumed since, or halted after its claim and before its signature,
 *   which persists nothing for a halted wallet: `insertSignedRequests`) "wallet halted: modification not applied", and one
 *   not signed yet when a later modify of the order was asked "superseded by a later modification of this
 *   order: not applied" (the last asked wins; sent first, it would undo values already replaced). One
 *   that its session's end cancelled and that was placed again moves to the replacement (outbox
 *   row's order and size, audit `ModifyOrder.followed`) and runs again there, also when the operator
 *   answers UnknownOrder (it was on the wire when the session was revoked). An order an operator read
 *   showed cancelled (no reason) waits up to a minute (on Postgres's clock) for the stream's OrderCancelled to say why.
 * - Errors and retries: as every submission (`runSubmission`); UnknownOrder → the order is read back
 *   by cloid and recorded as the operator reports it (filled or cancelled: the same "not applied" answer;
 *   a read that cannot be applied is not recorded: alerted READ_UNAPPLIABLE, done as the operator answered).
 *   Bytes whose answer was lost and whose session has ended are not resent: the order is read back, and
 *   if it shows this modify (its price and size at the next revision) the work is done as accepted;
 *   else, or when the read cannot be applied (alerted READ_UNAPPLIABLE), it is signed again under the current session.
 *   Outside the active session's scope: done when it was asked before the order was sent and the
 *   placement carried its price and size (nothing to send); else held for a scope change (session
 *   maintenance rotates the session to one covering ModifyOrder; a cancel of the order does not wait
 *   for it) when the wallet has a wallet signer, else failed `LOCAL.ACL_SCOPE`.
 * - Idempotency key: the outbox id; a resend after a lost response carries the identical bytes.
 */
import { and, count, eq, gt, inArray } from 'drizzle-orm'
import type { Hex } from 'viem'
import { liveOrderStates } from '../src/core/orders/orderState.js'
import { parseAmount, parsePositiveAmount } from '../src/core/money/decimal.js'
import { checkedOrderRead } from '../src/runtime/checkedOrderRead.js'
import { followReplacement } from '../src/runtime/submission/followReplacement.js'
import { applyOrderRead, readBackOrder } from '../src/runtime/submission/readBack.js'
import type { FamilySpec } from '../src/runtime/submission/types.js'
import { audit } from '../src/store/repositories/audit.js'
import type { Db } from '../src/store/Database.js'
import { haltedSinceQueued } from '../src/store/repositories/walletHalted.js'
import { mutateOrder } from '../src/store/repositories/mutateOrder.js'
import { postgresNow } from '../src/store/repositories/postgresNow.js'
import { orders, outbox, requests, unfinishedOutboxStatuses } from '../src/store/schema/index.js'

/** What `tookEffect` does without a read it can apply. */
const NOT_TAKEN = 'the ModifyOrder whose answer was lost is not taken as applied: it is signed again under the current session'

/** How long a modify waits for the stream to say why an order an operator read showed cancelled was cancelled. */
const REASON_WAIT_MS = 60_000

export const submitModifyOrderSpec: FamilySpec<'ModifyOrder'> = {
  family: 'ModifyOrder',
  async claim(tx, { row, order }) {
    if (!order) return { kind: 'done', reason: 'order row missing' }
    if (order.state === 'pending' || order.state === 'submitting' || order.state === 'unknown') {
      return { kind: 'wait', reason: 'the order is not acknowledged yet' }
    }
    if (order.state === 'cancelled' && order.replacedBy) {
      const unapplied = await followReplacement(tx, row, { ...order, replacedBy: order.replacedBy })
      return unapplied ? { kind: 'done', reason: unapplied } : { kind: 'wait', reason: 'moved to the replacement order' }
    }
    // Known cancelled from an operator read alone, which carries no reason: the stream's OrderCancelled
    // says whether its session's end did it (and then places it again), so wait for it a while. On
    // Postgres's clock, which dated the read (`updated_at`): on a worker's running a minute ahead, the
    // modify would end 'not applied' at once rather than follow the replacement.
    if (order.state === 'cancelled' && order.cancelReason === null && order.updatedAt.getTime() > (await postgresNow(tx)).getTime() - REASON_WAIT_MS) {
      return { kind: 'wait', reason: 'the order is cancelled; waiting for the stream to say why' }
    }
    if (!liveOrderStates.includes(order.state)) return { kind: 'done', reason: notApplied(row, order.state) }
    // The kill switch stops trading: a modify queued before it tripped is not sent (intake refuses new
    // ones), nor after the wallet resumes: the halt dropped it.
    if (await haltedSinceQueued(tx, row)) return { kind: 'done', reason: 'wallet halted: modification not applied' }
    // The user asked for another since: sent first, this one would take the order to values already
    // replaced (through the mark, a fill at once), or undo a placement that took the later one's.
    if (await laterModifyQueued(tx, row)) return { kind: 'done', reason: 'superseded by a later modification of this order: not applied' }
    const price = parsePositiveAmount('price', row.payload.price)
    const size = parsePositiveAmount('size', row.payload.size)
    return {
      kind: 'proceed',
      fields: { market: order.market, clientOrderId: order.clientOrderId as Hex, price, size },
      policy: { market: order.market, side: order.side, price, size },
    }
  },
  // Asked before the order was sent, and placed with its price and size: the ModifyOrder that follows
  // changes nothing and only confirms it. Under a session without ModifyOrder (the default scope) it
  // is not sent, nor held for a scope change (a rotation re-places every open order) or refused.
  doneWithoutScope({ row, order }) {
    if (row.payload.beforePlacement !== true || !order) return null
    const same = parseAmount('price', order.price) === parsePositiveAmount('price', row.payload.price) && parseAmount('size', order.size) === parsePositiveAmount('size', row.payload.size)
    return same ? "placed with this modification's price and size (asked before it was sent); no ModifyOrder needed, and the session's scope has none" : null
  },
  // Its answer lost and its session ended since: taken if the order, live at the operator, shows this
  // modify's price and size at the revision it made (one past the modifies accepted before it). That
  // one read is recorded in Postgres then. A session's end that cancelled the order is left to the claim (replacement).
  async tookEffect({ deps, row, order }, session, request) {
    if (!order) return false
    // A read that cannot be applied tells nothing either (alerted): signed again, as when the operator does not know the order.
    const there = await checkedOrderRead(deps, deps.sessions.readAuth(session), { walletId: row.walletId, clientOrderId: order.clientOrderId as Hex, instead: NOT_TAKEN })
    if (typeof there !== 'object' || (there.status !== 'open' && there.status !== 'partiallyFilled')) return false
    const message = JSON.parse(request.body).message as { price: string; size: string }
    const taken = Number(there.revision) === (await acceptedModifies(deps.db, order.id)) + 1 && parseAmount('price', there.price) === BigInt(message.price) && parseAmount('size', there.size) === BigInt(message.size)
    // Recorded from the read decided on: one round trip, and what is recorded is what was decided on.
    if (taken) await applyOrderRead(deps, session, { walletId: row.walletId, clientOrderId: order.clientOrderId as Hex }, there)
    return taken
  },
  // Nor one signed before it tripped and waiting to go out again (a rate limit, a fresh nonce).
  async stopsResend(tx, { row }) {
    return (await haltedSinceQueued(tx, row)) ? 'wallet halted: modification not applied' : null
  },
  async onAccepted(tx, { order }, { fields }) {
    if (!order) return
    // The operator bumps the revision by one per accepted modify, and modifies of one order are
    // serialized, so the revision is the count of its accepted modifies (this one included). Adding
    // one to the stored revision would count a modify twice when its event was applied before a
    // duplicate receipt (a resend after a lost response).
    await mutateOrder(tx, { id: order.id }, [{ kind: 'modified', price: BigInt(fields.price as string), size: BigInt(fields.size as string), revision: await acceptedModifies(tx, order.id) }])
  },
  async onRejected(tx, { row }, code, message) {
    await audit(tx, { walletId: row.walletId, actor: 'worker', action: 'ModifyOrder.rejected', details: { orderId: row.orderId, code, message } })
  },
  async onNotOpen({ deps, row, order }, session) {
    if (!session || !order) return
    await readBackOrder(deps, session, row.walletId, order.clientOrderId as Hex)
    // It filled or was cancelled while this waited its turn: answered as when the claim finds it so.
    const [current] = await deps.db.select({ state: orders.state, cancelReason: orders.cancelReason, replacedBy: orders.replacedBy }).from(orders).where(eq(orders.id, order.id))
    if (!current || liveOrderStates.includes(current.state)) return
    // Cancelled by its session's end while this was on the wire (a rotation), or not yet known why:
    // the claim, run again, follows the replacement or waits for the stream.
    if (current.state === 'cancelled' && (current.replacedBy || current.cancelReason === null)) return { runAgainInMs: 0 }
    return notApplied(row, current.state)
  },
}

/** Why a modify of an order that filled or was cancelled is not sent; one asked before the order was sent, whose price and size its placement took, says so. */
function notApplied(row: { payload: Record<string, unknown> }, state: string): string {
  return row.payload.beforePlacement === true
    ? `order ${state}: placed with this modification's price and size (asked before it was sent); nothing left to modify`
    : `order ${state}: modification not applied`
}

/**
 * A ModifyOrder of the same order asked after this one and not finished (each carries the whole new
 * price and size); for one moved to a session's replacement, also one still queued for the order it
 * left (`follows`), which will move there after it.
 */
async function laterModifyQueued(tx: Db, row: { orderId: string | null; seq: number; payload: Record<string, unknown> }): Promise<boolean> {
  if (!row.orderId) return false
  const targets = typeof row.payload.follows === 'string' ? [row.orderId, row.payload.follows] : [row.orderId]
  const [later] = await tx.select({ id: outbox.id }).from(outbox)
    .where(and(inArray(outbox.orderId, targets), eq(outbox.kind, 'ModifyOrder'), gt(outbox.seq, row.seq), inArray(outbox.status, [...unfinishedOutboxStatuses]))).limit(1)
  return later !== undefined
}

/** How many ModifyOrders of the order the operator accepted: its revision, one per accepted modify. */
async function acceptedModifies(db: Db, orderId: string): Promise<number> {
  const [accepted] = await db.select({ n: count() }).from(requests)
    .where(and(eq(requests.orderId, orderId), eq(requests.family, 'ModifyOrder'), eq(requests.status, 'accepted')))
  return accepted?.n ?? 0
}
