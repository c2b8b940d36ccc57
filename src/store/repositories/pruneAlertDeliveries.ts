import { lte } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { alertDeliveries } from '../schema/index.js'

/** Deletes the alert deliveries that no longer hold an alert back (sent at or before `repeatAfter`). */
export async function pruneAlertDeliveries(db: Db, repeatAfter: Date): Promise<void> {
  await db.delete(alertDeliveries).where(lte(alertDeliveries.sentAt, repeatAfter))
}
