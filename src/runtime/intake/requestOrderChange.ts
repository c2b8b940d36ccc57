import { and, eq, inArray, sql } from 'drizzle-orm'
import { ValidationError } from '../../core/errors/ValidationError.js'
import { formatAmount, parseAmount, parsePositiveAmount } from '../../core/money/decimal.js'
import { assertMultiple } from '../../core/money/increments.js'
import { liveOrderStates, terminalOrderStates } from '../../core/orders/orderState.js'
import type { Db } from '../../store/Database.js'
import { lockOrder } from '../../store/repositories/lockOrder.js'
import { audit } from '../../store/repositories/audit.js'
import { unfinishedCancelsOf } from '../../store/repositories/unfinishedCancels.js'
import { type OrderRow, type OutboxRow, auditLog, intents, orders, outbox, requests, wallets, unfinishedOutboxStatuses } from '../../store/schema/index.js'
import { type MarketRules, marketRule } from './marketRules.js'
import { lockTenantWallet } from './lockTenantWallet.js'

export class OrderNotOpenError extends ValidationError {
  override name = 'OrderNotOpenError'
  constructor(order: OrderRow, action: string) {
    const replaced = order.replacedBy ? ` (its session ended and it was placed again as ${order.replacedBy}: use that order)` : ''
    super('orderId', `the order is ${order.state}; it cannot be ${action}${replaced}`)
  }
}

/**
 * `outboxId`: the caller's id for the work, when the request may be asked again after an outcome it
 * lost (the API's Idempotency-Key action id, as a placement's intent id): work already queued under
 * it (the first attempt's COMMIT landed, its answer was lost) is answered, and nothing is queued or
 * changed again (a second CancelAll minutes later would cancel the orders placed since; a second
 * modify would put an old price and size back over a newer one). Random otherwise.
 */
export type QueuedAs = { outboxId?: string }

/** The work already queued under `outboxId` for the same request (kind, wallet, order), if any. */
export async function queuedAlready(db: Db, outboxId: string | undefined, expected: { kind: OutboxRow['kind']; walletId?: string; orderId?: string }): Promise<{ outboxId: string } | undefined> {
  if (!outboxId) return undefined
  const [row] = await db.select({ id: outbox.id, kind: outbox.kind, walletId: outbox.walletId, orderId: outbox.orderId }).from(outbox).where(eq(outbox.id, outboxId))
  if (!row) return undefined
  if (row.kind !== expected.kind || (expected.walletId !== undefined && row.walletId !== expected.walletId) || (expected.orderId !== undefined && row.orderId !== expected.orderId)) {
    throw new Error(`outbox ${outboxId} is a ${row.kind} of another wallet or order: not the work asked for`)
  }
  return { outboxId: row.id }
}

async function lockKnownOrder(db: Db, orderId: string): Promise<OrderRow> {
  const order = await lockOrder(db, { id: orderId })
  if (!order) throw new ValidationError('orderId', 'must name a known order')
  return order
}

/** Queues a ModifyOrder (new price and size) behind whatever is in flight for the order. */
export async function requestModify(db: Db, rules: MarketRules, input: { orderId: string; price: string; size: string } & QueuedAs): Promise<{ outboxId: string }> {
  const price = parsePositiveAmount('price', input.price)
  const size = parsePositiveAmount('size', input.size)
  return db.transaction(async (tx) => {
    const queued = await queuedAlready(tx, input.outboxId, { kind: 'ModifyOrder', orderId: input.orderId })
    if (queued) return queued
    // The kill switch stops trading: an order its CancelAll left live (a scope without CancelAll) may
    // be cancelled, not changed. The wallet is read under a share lock, as a placement reads it, and
    // before the order is locked (a halt locks the wallet, then its pending orders): a halt committing
    // meanwhile is waited for and seen. Read without it, the modify would be queued after the halt's
    // CancelAll, and a resume would let it out.
    const [owner] = await tx.select({ walletId: orders.walletId }).from(orders).where(eq(orders.id, input.orderId))
    if (!owner) throw new ValidationError('orderId', 'must name a known order')
    const [wallet] = await tx.select({ status: wallets.status, haltedReason: wallets.haltedReason }).from(wallets).where(eq(wallets.id, owner.walletId)).for('share')
    const order = await lockKnownOrder(tx, input.orderId)
    if (terminalOrderStates.includes(order.state)) throw new OrderNotOpenError(order, 'modified')
    if (wallet?.status === 'halted') throw new ValidationError('orderId', `the wallet is halted (${wallet.haltedReason ?? 'kill switch'}); resume it before modifying orders`)
    const rule = marketRule(rules, order.market)
    assertMultiple('price', price, rule.tickSize, 'tickSize')
    assertMultiple('size', size, rule.lotSize, 'lotSize')
    // The size is the order's new total. Fills only grow, so one at or below what is known to have
    // filled would be refused by the operator anyway (InvalidRequest), after a round trip.
    const filled = parseAmount('filled', order.filled)
    if (size <= filled) throw new ValidationError('size', `must exceed the ${formatAmount(filled)} already filled (size is the order's new total)`)
    // The price and size the order already has at the operator: sent, it would change nothing there
    // but its revision, and read as done. Only for an order placed with no modify of it still on its
    // way (one back to the current values undoes that one), whose row holds what the operator has.
    if (liveOrderStates.includes(order.state) && price === parseAmount('price', order.price) && size === parseAmount('size', order.size) && !(await modifyOnItsWay(tx, order.id))) {
      throw new ValidationError('price', `with size, must change the order: it already has price ${formatAmount(price)} and size ${formatAmount(size)}`)
    }
    // Not sent yet: the placement itself takes the new values, so the operator never sees the old
    // ones (queued behind the placement alone, an old price through the mark would fill first). The
    // modify is queued all the same: it follows the placement, changes nothing there, and its answer
    // is the work's.
    const beforePlacement = await notSentYet(tx, order)
    if (beforePlacement) {
      await tx.update(orders).set({ price: formatAmount(price), size: formatAmount(size) }).where(eq(orders.id, order.id))
      await audit(tx, { walletId: order.walletId, actor: 'api', action: 'order.modifiedBeforePlacement', details: { orderId: order.id, from: { price: order.price, size: order.size }, to: { price: input.price, size: input.size } } })
    }
    const payload = { price: input.price, size: input.size, ...(beforePlacement ? { beforePlacement: true } : {}) }
    const [row] = await tx.insert(outbox).values({ id: input.outboxId, walletId: order.walletId, kind: 'ModifyOrder', orderId: order.id, payload }).returning({ id: outbox.id })
    return { outboxId: row!.id }
  })
}

/** A ModifyOrder of the order queued, held, or sent with its answer not yet stored. */
async function modifyOnItsWay(tx: Db, orderId: string): Promise<boolean> {
  const [queued] = await tx.select({ id: outbox.id }).from(outbox)
    .where(and(eq(outbox.orderId, orderId), eq(outbox.kind, 'ModifyOrder'), inArray(outbox.status, [...unfinishedOutboxStatuses]))).limit(1)
  return queued !== undefined
}

/**
 * A pending order (locked) for which no request was ever signed, and whose placement will not take
 * its values from an operator read (`readBack`, a session-end replacement): what it places is read
 * from its row when it is claimed, after this commits (the claims lock the order first).
 */
async function notSentYet(tx: Db, order: OrderRow): Promise<boolean> {
  if (order.state !== 'pending') return false
  const [signed] = await tx.select({ id: requests.id }).from(requests).where(eq(requests.orderId, order.id)).limit(1)
  if (signed) return false
  const [readBack] = await tx.select({ id: outbox.id }).from(outbox)
    .where(and(eq(outbox.orderId, order.id), eq(outbox.kind, 'Order'), sql`${outbox.payload}->'readBack' is not null`)).limit(1)
  return !readBack
}

/**
 * An order an operator read showed cancelled (a read carries no reason), not placed again, whose
 * intent is still wanted: the stream's OrderCancelled may yet say its session's end cancelled it,
 * and then it is placed again (`replaceSessionOrder`) unless a cancel was asked meanwhile.
 */
async function mayBePlacedAgain(tx: Db, order: OrderRow): Promise<boolean> {
  if (order.state !== 'cancelled' || order.cancelReason !== null || order.replacedBy || !order.intentId) return false
  const [intent] = await tx.select({ status: intents.status }).from(intents).where(eq(intents.id, order.intentId))
  return intent?.status === 'active'
}

/**
 * Queues a CancelOrder; cancels are allowed even while the wallet is halted. One for an order that
 * may yet be placed again (`mayBePlacedAgain`) is taken, so it is not: its work finds the order
 * already cancelled. Asked again while a cancel of the order is due and unfinished (queued, held or
 * on the wire), it answers that cancel and queues nothing: a second CancelOrder would only reach the
 * operator after the first and be refused (audit `CancelOrder.joined`, with the ask's `outboxId` as
 * `actionId`). A good-till cancel not yet due does not count (the order is to be cancelled now), nor
 * one that failed (a new ask is a new try). An ask under an `outboxId` that joined a cancel before is
 * answered with that cancel while it is on its way or once the order has ended.
 */
export async function requestCancel(db: Db, input: { orderId: string; reason?: string } & QueuedAs): Promise<{ outboxId: string }> {
  return db.transaction(async (tx) => {
    const queued = await queuedAlready(tx, input.outboxId, { kind: 'CancelOrder', orderId: input.orderId })
    if (queued) return queued
    // Locked first: a cancel asked at the same moment waits here, then finds this one's row.
    const order = await lockKnownOrder(tx, input.orderId)
    // Due by the clock now, not at the transaction's start (now()): a good-till cancel that came due
    // while this waited for the order's lock may be on the wire, and is answered, not sent again.
    const [pending] = await tx.select({ id: outbox.id }).from(outbox)
      .where(and(unfinishedCancelsOf(order.id), sql`${outbox.availableAt} <= clock_timestamp()`))
      .orderBy(outbox.seq).limit(1)
    // Read before the intent is marked below: an order whose intent is active may be placed again.
    const ended = !pending && terminalOrderStates.includes(order.state) && !(await mayBePlacedAgain(tx, order))
    // An earlier attempt under this action id that joined a cancel (its answer lost) is answered with
    // that cancel, also once it has cancelled the order: the cancel asked is on its way or done.
    if (input.outboxId && (pending || ended)) {
      const joined = await joinedAlready(tx, order, input.outboxId)
      if (joined) return joined
    }
    if (ended) throw new OrderNotOpenError(order, 'cancelled')
    if (order.intentId) await tx.update(intents).set({ status: 'cancel_requested' }).where(eq(intents.id, order.intentId))
    if (pending) {
      await audit(tx, { walletId: order.walletId, actor: 'api', action: CANCEL_JOINED, details: { orderId: order.id, outboxId: pending.id, ...(input.outboxId ? { actionId: input.outboxId } : {}) } })
      return { outboxId: pending.id }
    }
    const [row] = await tx.insert(outbox).values({ id: input.outboxId, walletId: order.walletId, kind: 'CancelOrder', orderId: order.id, payload: { reason: input.reason ?? 'user' } }).returning({ id: outbox.id })
    return { outboxId: row!.id }
  })
}

/** Audit action of a cancel answered with another cancel of the order on its way (`requestCancel`). */
const CANCEL_JOINED = 'CancelOrder.joined'

/**
 * The cancel an ask under `actionId` joined (`CANCEL_JOINED`), if any: it queued nothing under its
 * own id, so `queuedAlready` cannot find what it answered.
 */
async function joinedAlready(tx: Db, order: OrderRow, actionId: string): Promise<{ outboxId: string } | undefined> {
  const [entry] = await tx.select({ details: auditLog.details }).from(auditLog).where(and(
    // The action as a literal, so the planner can use the partial index on it (`audit_log_cancel_joined_idx`).
    eq(auditLog.walletId, order.walletId), sql`${auditLog.action} = ${sql.raw(`'${CANCEL_JOINED}'`)}`,
    sql`${auditLog.details}->>'actionId' = ${actionId}`, sql`${auditLog.details}->>'orderId' = ${order.id}`,
  )).limit(1)
  const outboxId = entry?.details.outboxId
  return typeof outboxId === 'string' ? { outboxId } : undefined
}

/**
 * Queues a CancelAll for one market, or `""` for every market. `tenantId` (the API's caller): the
 * wallet must be that tenant's, checked in the same transaction (`lockTenantWallet`).
 */
export async function requestCancelAll(db: Db, input: { walletId: string; market?: string; tenantId?: string } & QueuedAs): Promise<{ outboxId: string }> {
  return db.transaction(async (tx) => {
    await lockTenantWallet(tx, input.walletId, input.tenantId)
    const queued = await queuedAlready(tx, input.outboxId, { kind: 'CancelAll', walletId: input.walletId })
    if (queued) return queued
    const [row] = await tx.insert(outbox).values({ id: input.outboxId, walletId: input.walletId, kind: 'CancelAll', payload: { market: input.market ?? '' } }).returning({ id: outbox.id })
    return { outboxId: row!.id }
  })
}
