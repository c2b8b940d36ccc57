import { and, isNotNull, isNull, lte, or } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { alertDeliveries } from '../schema/index.js'

/** An alert whose POST never ended is sent by a sweep for this long after it was raised; its row is pruned this long (and the hour it holds the alert back) after its last claim. */
export const UNDELIVERED_KEPT_MS = 24 * 3_600_000

/**
 * Deletes the alert deliveries that no longer hold an alert back (sent at or before `repeatAfter`),
 * but for one whose POST never ended (its process died), which a sweep is still to send, for a day.
 */
export async function pruneAlertDeliveries(db: Db, repeatAfter: Date): Promise<void> {
  await db.delete(alertDeliveries).where(and(lte(alertDeliveries.sentAt, repeatAfter), or(
    isNotNull(alertDeliveries.deliveredAt), isNull(alertDeliveries.alert), lte(alertDeliveries.sentAt, new Date(repeatAfter.getTime() - UNDELIVERED_KEPT_MS)),
  )))
}
