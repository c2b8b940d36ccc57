import { sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { alertDeliveries } from '../schema/index.js'
import { type AlertClaim, thisClaim } from './claimAlert.js'

/** Records that this claim's webhook POST succeeded: no sweep sends it again (`claimUndelivered`). Only this claim, as `releaseAlert`. */
export async function markAlertDelivered(db: Db, claim: Pick<AlertClaim, 'walletId' | 'code' | 'detailsHash' | 'at'>): Promise<void> {
  await db.update(alertDeliveries).set({ deliveredAt: sql`now()` }).where(thisClaim(claim))
}
