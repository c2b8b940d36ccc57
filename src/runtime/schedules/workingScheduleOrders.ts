import { type SQL, and, eq, lt, notInArray } from 'drizzle-orm'
import { terminalOrderStates } from '../../core/orders/orderState.js'
import type { Db } from '../../store/Database.js'
import { intents, orders } from '../../store/schema/index.js'

export type WorkingScheduleOrdersParameters = {
  scheduleId: string
  /**
   * `earlier`: orders of runs before `slot` (a new run cancels them first);
   * `ownSells`: this slot's sell legs (their proceeds fund its buys); omitted: all.
   */
  which?: { kind: 'earlier'; slot: Date } | { kind: 'ownSells'; slot: Date }
}

export type WorkingScheduleOrder = { orderId: string; intentId: string; state: string; intentStatus: string }

/** A schedule's orders that are not yet filled, cancelled or rejected. */
export async function workingScheduleOrders(db: Db, { scheduleId, which }: WorkingScheduleOrdersParameters): Promise<WorkingScheduleOrder[]> {
  const conditions: SQL[] = [eq(intents.scheduleId, scheduleId), notInArray(orders.state, [...terminalOrderStates])]
  if (which?.kind === 'earlier') conditions.push(lt(intents.slotAt, which.slot))
  if (which?.kind === 'ownSells') conditions.push(eq(intents.slotAt, which.slot), eq(intents.side, 1))
  return db.select({ orderId: orders.id, intentId: intents.id, state: orders.state, intentStatus: intents.status })
    .from(orders)
    .innerJoin(intents, eq(intents.id, orders.intentId))
    .where(and(...conditions))
}
