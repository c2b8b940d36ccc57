import { sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import type { StoredAlert } from '../schema/index.js'
import { UNDELIVERED_KEPT_MS } from './pruneAlertDeliveries.js'

/** An alert claimed again by a sweep: its key, the new claim's time (`at`), and the alert as raised. */
export type UndeliveredAlert = { walletId: string; code: string; detailsHash: string; at: Date; alert: StoredAlert }

/**
 * Claims again, for this process to send, the alerts whose webhook POST never ended: claimed (by
 * any process) before `claimedBefore`, never delivered, nor released (a POST given up releases its
 * claim), and first raised less than a day before `now` (`UNDELIVERED_KEPT_MS`: a webhook that
 * refuses them is not sent them for ever, and each claim again would otherwise keep its row from
 * being pruned). Their claim's time becomes `now`, so a sweep of another process running at once, or the
 * next one, passes them by while this one sends them (one statement: two sweeps serialize on the
 * rows, and the second finds them claimed anew). Their audit entries were written with the first claim.
 */
export async function claimUndelivered(db: Db, now: Date, claimedBefore: Date): Promise<UndeliveredAlert[]> {
  const { rows } = await db.execute<{ wallet_id: string; code: string; details_hash: string; alert: StoredAlert }>(sql`
    update alert_deliveries set sent_at = ${now.toISOString()}::timestamptz
    where delivered_at is null and alert is not null and sent_at < ${claimedBefore.toISOString()}::timestamptz
      and (alert->>'at')::float8 > ${now.getTime() - UNDELIVERED_KEPT_MS}::float8
    returning wallet_id, code, details_hash, alert`)
  return rows.map((row) => ({ walletId: row.wallet_id, code: row.code, detailsHash: row.details_hash, at: now, alert: row.alert }))
}
