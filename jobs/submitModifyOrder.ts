/**
 * Processor: submit a ModifyOrder (new price and/or size, same cloid).
 * - Payload: `SubmitJobData` { outboxId, walletId, family: 'ModifyOrder', orderId }; the outbox
 *   row's payload carries `{ price, size }` as decimal strings.
 * - Reads: outbox row (and earlier rows for the same order: it waits until the Order is answered),
 *   orders row, active session.
 * - Writes: a `requests` row with the signed bytes before sending; on accept the order's price, size
 *   and revision; outbox → done/failed/held. An order that filled or was cancelled meanwhile is
 *   answered `done` with the reason "order <state>: modification not applied" (audit + outbox).
 * - Errors and retries: as every submission (`runSubmission`); UnknownOrder → the order is read back
 *   by cloid and recorded as the operator reports it (filled or cancelled: the same "not applied" answer).
 * - Idempotency key: the outbox id; a resend after a lost response carries the identical bytes.
 */
import { and, count, eq } from 'drizzle-orm'
import type { Hex } from 'viem'
import { liveOrderStates } from '../src/core/orders/orderState.js'
import { parsePositiveAmount } from '../src/core/money/decimal.js'
import { readBackOrder } from '../src/runtime/submission/readBack.js'
import type { FamilySpec } from '../src/runtime/submission/types.js'
import { audit } from '../src/store/repositories/audit.js'
import { mutateOrder } from '../src/store/repositories/mutateOrder.js'
import { orders, requests } from '../src/store/schema/index.js'

export const submitModifyOrderSpec: FamilySpec<'ModifyOrder'> = {
  family: 'ModifyOrder',
  async claim(_tx, { row, order }) {
    if (!order) return { kind: 'done', reason: 'order row missing' }
    if (order.state === 'pending' || order.state === 'submitting' || order.state === 'unknown') {
      return { kind: 'wait', reason: 'the order is not acknowledged yet' }
    }
    if (!liveOrderStates.includes(order.state)) return { kind: 'done', reason: `order ${order.state}: modification not applied` }
    const price = parsePositiveAmount('price', row.payload.price)
    const size = parsePositiveAmount('size', row.payload.size)
    return {
      kind: 'proceed',
      fields: { market: order.market, clientOrderId: order.clientOrderId as Hex, price, size },
      policy: { market: order.market, side: order.side, price, size },
    }
  },
  async onAccepted(tx, { order }, { fields }) {
    if (!order) return
    // The operator bumps the revision by one per accepted modify, and modifies of one order are
    // serialized, so the revision is the count of its accepted modifies (this one included). Adding
    // one to the stored revision would count a modify twice when its event was applied before a
    // duplicate receipt (a resend after a lost response).
    const [accepted] = await tx.select({ n: count() }).from(requests)
      .where(and(eq(requests.orderId, order.id), eq(requests.family, 'ModifyOrder'), eq(requests.status, 'accepted')))
    await mutateOrder(tx, { id: order.id }, [{ kind: 'modified', price: BigInt(fields.price as string), size: BigInt(fields.size as string), revision: accepted?.n ?? 1 }])
  },
  async onRejected(tx, { row }, code, message) {
    await audit(tx, { walletId: row.walletId, actor: 'worker', action: 'ModifyOrder.rejected', details: { orderId: row.orderId, code, message } })
  },
  async onNotOpen({ deps, row, order }, session) {
    if (!session || !order) return
    await readBackOrder(deps, session, row.walletId, order.clientOrderId as Hex)
    // It filled or was cancelled while this waited its turn: answered as when the claim finds it so.
    const [current] = await deps.db.select({ state: orders.state }).from(orders).where(eq(orders.id, order.id))
    if (current && !liveOrderStates.includes(current.state)) return `order ${current.state}: modification not applied`
  },
}
