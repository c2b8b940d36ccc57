import { asc, inArray } from 'drizzle-orm'
import type { Sandbox } from '../../../src/sandbox/startSandbox.js'
import type { SandboxEvent } from '../../../src/sandbox/engine/types.js'
import type { Db } from '../../../src/store/Database.js'
import { type OrderRow, type OutboxRow, fills, intents, orders, outbox } from '../../../src/store/schema/index.js'
import type { VenueFill, VenueOrder } from './types.js'

/**
 * What the drill's checks compare: Postgres's rows of the drill's wallets, and the operator's own
 * state (the in-process sandbox: every order it holds by cloid, its events and its fills), with the
 * lookups the checks share.
 */
export async function loadDrillView(db: Db, sandbox: Sandbox, walletIds: string[]) {
  const allIntents = await db.select().from(intents).where(inArray(intents.walletId, walletIds))
  const allOrders = await db.select().from(orders).where(inArray(orders.walletId, walletIds)).orderBy(asc(orders.createdAt))
  const allOutbox = await db.select().from(outbox).where(inArray(outbox.walletId, walletIds)).orderBy(asc(outbox.seq))
  const allFills = await db.select().from(fills).where(inArray(fills.walletId, walletIds))
  const fillRowById = new Map(allFills.map((f) => [f.fillId, f]))
  const orderById = new Map(allOrders.map((o) => [o.id, o]))
  const ordersByIntent = new Map<string, OrderRow[]>()
  for (const o of allOrders) if (o.intentId) ordersByIntent.set(o.intentId, [...(ordersByIntent.get(o.intentId) ?? []), o])
  const orderByCloid = new Map(allOrders.map((o) => [o.clientOrderId.toLowerCase(), o]))
  const rowsByIntent = new Map<string, OutboxRow[]>()
  for (const row of allOutbox) {
    const intentId = row.orderId ? orderById.get(row.orderId)?.intentId : undefined
    if (intentId) rowsByIntent.set(intentId, [...(rowsByIntent.get(intentId) ?? []), row])
  }

  // The operator's truth: every order it holds by cloid, its events and its fills.
  const venueOrders = new Map<string, VenueOrder>()
  const venueEvents = new Map<string, SandboxEvent[]>()
  const venueFills = new Map<string, VenueFill[]>()
  const venueFillById = new Map<string, VenueFill>()
  let mapped = 0
  for (const wallet of sandbox.state.wallets.values()) {
    for (const [cloid, order] of wallet.orders) {
      mapped++
      venueOrders.set(cloid.toLowerCase(), { status: order.status, price: order.price, size: order.size, filled: order.filled, revision: order.revision, updatedAt: order.updatedAt, wallet: wallet.key })
    }
    for (const event of wallet.events.since(0)) {
      const cloid = event.clientOrderId?.toLowerCase()
      if (cloid) venueEvents.set(cloid, [...(venueEvents.get(cloid) ?? []), event])
    }
    for (const fill of wallet.fills) {
      const record = { fillId: `${wallet.key}:${fill.fillId}`, clientOrderId: fill.clientOrderId.toLowerCase(), price: fill.price, size: fill.size, fee: fill.fee }
      venueFills.set(record.clientOrderId, [...(venueFills.get(record.clientOrderId) ?? []), record])
      venueFillById.set(record.fillId, record)
    }
  }
  const venueOf = (o: OrderRow | undefined) => (o ? venueOrders.get(o.clientOrderId.toLowerCase()) : undefined)
  const walletKeyOf = (o: OrderRow) => venueOf(o)?.wallet ?? [...sandbox.state.wallets.values()].find((w) => w.orders.has(o.clientOrderId.toLowerCase()))?.key
  /** An intent's orders as chains: a root (named by no replaced_by) and the orders that replaced it in turn. */
  const chainsOf = (intentOrders: OrderRow[]): OrderRow[][] => {
    const named = new Set(intentOrders.map((o) => o.replacedBy).filter((id): id is string => !!id))
    return intentOrders.filter((o) => !named.has(o.id)).map((root) => {
      const chain = [root]
      for (let next = root.replacedBy; next && orderById.get(next) && !chain.some((o) => o.id === next);) {
        chain.push(orderById.get(next)!)
        next = orderById.get(next)!.replacedBy
      }
      return chain
    })
  }

  return {
    allIntents, allOrders, allOutbox, allFills, fillRowById, orderById, ordersByIntent, orderByCloid, rowsByIntent,
    venueOrders, venueEvents, venueFills, venueFillById, mapped, venueOf, walletKeyOf, chainsOf,
  }
}
export type DrillView = Awaited<ReturnType<typeof loadDrillView>>
