import type { Db } from '../Database.js'
import { alertDeliveries } from '../schema/index.js'
import { type AlertClaim, thisClaim } from './claimAlert.js'

/**
 * Undoes `claimAlert`'s claim of an alert that did not go out (its webhook POST given up), so that
 * the next occurrence of the same alert, in any process, is sent rather than held back for the
 * hour. Only this claim: a row another process claimed since (a later `sent_at`) stays. Its audit
 * entry stays too: the alert was raised.
 */
export async function releaseAlert(db: Db, claim: Pick<AlertClaim, 'walletId' | 'code' | 'detailsHash' | 'at'>): Promise<void> {
  await db.delete(alertDeliveries).where(thisClaim(claim))
}
