import { eq, sql } from 'drizzle-orm'
import type { Db } from '../../../store/Database.js'
import { scheduleRuns } from '../../../store/schema/index.js'

/** Adds order ids to the run's `cancelledOrderIds` (a set: re-deliveries add nothing twice). */
export async function noteCancelled(db: Db, runId: string, orderIds: readonly string[]): Promise<void> {
  await db.update(scheduleRuns).set({
    cancelledOrderIds: sql`(select coalesce(jsonb_agg(distinct cancelled.order_id), '[]'::jsonb) from jsonb_array_elements_text(${scheduleRuns.cancelledOrderIds} || ${JSON.stringify(orderIds)}::jsonb) as cancelled(order_id))`,
  }).where(eq(scheduleRuns.id, runId))
}
