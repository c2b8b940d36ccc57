import { postgresNow } from '../../store/repositories/postgresNow.js'
import { and, count, desc, eq, inArray } from 'drizzle-orm'
import { TimeInForce } from '../../core/eip712/types.js'
import { formatAmount, parseAmount } from '../../core/money/decimal.js'
import { deriveClientOrderId } from '../../core/requests/deriveClientOrderId.js'
import type { Db } from '../../store/Database.js'
import { audit } from '../../store/repositories/audit.js'
import { cancelAllAfter } from '../../store/repositories/cancelAllAfter.js'
import { unfinishedCancelsOf } from '../../store/repositories/unfinishedCancels.js'
import { type OrderRow, events, intents, orders, outbox, requests } from '../../store/schema/index.js'

/**
 * Orders belong to the session that placed them: revoking or expiring a
 * session cancels them at the operator. When that happens to an order whose
 * intent the user still wants (a rotation, not a compromise or a cancel), the
 * remainder is placed again under the wallet's current session with the
 * intent's next revision (a new cloid), and the cancelled order names it
 * (`replaced_by`). Call inside the event's transaction, with `cancelled` read
 * under its row lock (`mutateOrder`).
 *
 * The event may not be the first to record the cancel: an operator read (a
 * reconcile, a read-back) can have marked the order cancelled already, without
 * a reason. So what guards against a second replacement is `replaced_by`, not
 * the state the event found.
 *
 * It is placed at the price and size Postgres holds for the cancelled order, which may not be the
 * operator's: a modify the operator accepted before the cancel is known here only from its receipt
 * or from reading the order back (PROTOCOL.md §7's OrderModified carries no price or size). When the
 * order may have such a modify (an OrderModified stored beyond its revision, or a ModifyOrder of it
 * signed and not answered, or answered unknown), the replacement's Order job reads the cancelled
 * order back before placing it (`readBack` in its payload): the operator's read of a cancelled order
 * holds every modify it accepted and none it refused.
 */
export async function replaceSessionOrder(tx: Db, cancelled: OrderRow): Promise<OrderRow | undefined> {
  if (!cancelled.intentId || cancelled.state !== 'cancelled' || cancelled.replacedBy) return undefined
  const [intent] = await tx.select().from(intents).where(and(eq(intents.id, cancelled.intentId), eq(intents.status, 'active'))).for('update')
  // Resting orders (GTC and POST_ONLY) are placed again; an IOC never rested. A POST_ONLY replacement
  // that would now cross is refused by the operator (PostOnlyWouldCross), as a new one would be.
  if (!intent || intent.timeInForce === TimeInForce.IOC) return undefined
  const [current] = await tx.select({ id: orders.id }).from(orders)
    .where(and(eq(orders.intentId, intent.id), inArray(orders.state, ['pending', 'submitting', 'unknown', 'open', 'partially_filled'])))
  if (current) return undefined
  // Nothing left at the size Postgres holds, and yet the operator cancelled it: its fills covered a size
  // a modify had replaced (an OrderModified without fields). The operator's `remaining` on its last fill
  // says what was left (the replacement reads the order back before it is placed).
  const held = parseAmount('size', cancelled.size) - parseAmount('filled', cancelled.filled)
  const remaining = held > 0n ? held : await remainingAfterLastFill(tx, cancelled)
  if (remaining <= 0n) return undefined
  // On Postgres's clock, as the placement's claim and the relay judge a good-till time: on this
  // worker's, one running behind would place the order again after the time the user set.
  if (intent.goodTill && intent.goodTill.getTime() <= (await postgresNow(tx)).getTime()) {
    await endAtGoodTill(tx, cancelled)
    return undefined
  }
  // A CancelAll of its market asked since it was queued (a user's, or the kill switch's) covers it:
  // placed again now, the replacement would be queued after that CancelAll and escape it.
  // A halt's CancelAll that was refused cancelled nothing: the order lived on past the resume.
  if (await cancelAllAfter(tx, cancelled.id, { anyHalt: false })) return undefined
  const revision = intent.revision + 1
  await tx.update(intents).set({ revision }).where(eq(intents.id, intent.id))
  const [replacement] = await tx.insert(orders).values({
    walletId: cancelled.walletId, intentId: intent.id, clientOrderId: deriveClientOrderId(intent.id, revision), market: cancelled.market,
    side: cancelled.side, price: cancelled.price, size: formatAmount(remaining), timeInForce: cancelled.timeInForce, state: 'pending',
  }).returning()
  await tx.update(orders).set({ replacedBy: replacement!.id }).where(eq(orders.id, cancelled.id))
  const readBack = await mayHaveUnseenModify(tx, cancelled)
  await tx.insert(outbox).values({ walletId: cancelled.walletId, kind: 'Order', orderId: replacement!.id, payload: { replaces: cancelled.id, ...(readBack ? { readBack: true } : {}) } })
  // A cancel still to come for the cancelled order (its good-till) now targets the replacement. The
  // relay hands a good-till due within a day to BullMQ as a delayed job at once ('enqueued'); the job
  // reads its row's order when it runs, so moving the row moves the cancel.
  await tx.update(outbox).set({ orderId: replacement!.id })
    .where(unfinishedCancelsOf(cancelled.id))
  await audit(tx, { walletId: cancelled.walletId, actor: 'worker', action: 'order.replaced', details: { cancelled: cancelled.id, replacement: replacement!.id, reason: cancelled.cancelReason, revision } })
  return replacement
}

/**
 * The order's good-till time passed before its session's end cancelled it: it is not placed again
 * (it would trade after the time the user said it must be gone by), and it ends as its good-till
 * cancel would have left it, as an order never sent before that time does (submitOrder's
 * `goodTillPassed`): reason `goodTill`, its intent cancelled, and the cancels queued for it settled
 * (its good-till cancel would find it cancelled, and leave the intent active: a schedule's leg
 * still wanted, an order a user could cancel again).
 */
async function endAtGoodTill(tx: Db, cancelled: OrderRow): Promise<void> {
  await tx.update(orders).set({ cancelReason: 'goodTill' }).where(and(eq(orders.id, cancelled.id), eq(orders.state, 'cancelled')))
  await tx.update(intents).set({ status: 'cancelled' }).where(eq(intents.id, cancelled.intentId!))
  await tx.update(outbox).set({ status: 'done', lastError: 'its good-till time had passed when its session\'s end cancelled it' })
    .where(unfinishedCancelsOf(cancelled.id))
  await audit(tx, { walletId: cancelled.walletId, actor: 'worker', action: 'order.endedAtGoodTill', details: { orderId: cancelled.id, reason: cancelled.cancelReason } })
}

/** The `remaining` of the order's last OrderFilled (PROTOCOL.md §7), or 0 when none says. */
async function remainingAfterLastFill(tx: Db, order: OrderRow): Promise<bigint> {
  const [last] = await tx.select({ payload: events.payload }).from(events)
    .where(and(eq(events.walletId, order.walletId), eq(events.clientOrderId, order.clientOrderId.toLowerCase()), eq(events.type, 'OrderFilled')))
    .orderBy(desc(events.seq)).limit(1)
  const data = (last?.payload as { data?: { remaining?: unknown } } | undefined)?.data
  try {
    return data?.remaining === undefined ? 0n : parseAmount('remaining', data.remaining)
  } catch {
    return 0n
  }
}

/** Whether the operator may hold a modify of the order that Postgres has not applied (see above). */
async function mayHaveUnseenModify(tx: Db, order: OrderRow): Promise<boolean> {
  const [modified] = await tx.select({ n: count() }).from(events)
    .where(and(eq(events.walletId, order.walletId), eq(events.clientOrderId, order.clientOrderId.toLowerCase()), eq(events.type, 'OrderModified')))
  if ((modified?.n ?? 0) > order.venueRevision) return true
  const [open] = await tx.select({ id: requests.id }).from(requests)
    .where(and(eq(requests.orderId, order.id), eq(requests.family, 'ModifyOrder'), inArray(requests.status, ['signed', 'unknown']))).limit(1)
  return open !== undefined
}
