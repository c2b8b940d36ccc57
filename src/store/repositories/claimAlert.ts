import { type SQL, and, eq, sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { type AuditActor, type StoredAlert, alertDeliveries } from '../schema/index.js'

export type AlertClaim = {
  walletId: string
  code: string
  /** Hex SHA-256 of the alert's details as JSON. */
  detailsHash: string
  /** Now, on the raising process's clock. */
  at: Date
  /** An earlier delivery of the same alert at or before this time no longer holds this one back. */
  repeatAfter: Date
  /** The audit entry written with the claim, and only with it. */
  audit: { actor: AuditActor; action: string; details: Record<string, unknown> }
  /** The alert, kept for a sweep to send again should this process die before its POST ends. */
  alert: StoredAlert
  /** Nothing to send (the claiming process has no webhook): claimed as delivered. */
  delivered: boolean
}

/**
 * Claims the delivery of one alert for every process sharing this Postgres, and writes its audit
 * entry, in one statement: true if it is this caller's to send (no delivery of the same wallet,
 * code and details since `repeatAfter`), false if another process's (or an earlier run's) delivery
 * still holds it back, nothing written. Two processes claiming at once serialize on the row (the
 * insert's conflict waits for the other's commit, then re-checks `sent_at` against it): one wins.
 */
export async function claimAlert(db: Db, claim: AlertClaim): Promise<boolean> {
  const { rows } = await db.execute<{ id: number }>(sql`
    with claimed as (
      insert into alert_deliveries (wallet_id, code, details_hash, sent_at, alert, delivered_at)
      values (${claim.walletId}, ${claim.code}, ${claim.detailsHash}, ${claim.at.toISOString()}::timestamptz,
        ${JSON.stringify(claim.alert)}::jsonb, ${claim.delivered ? claim.at.toISOString() : null}::timestamptz)
      on conflict (wallet_id, code, details_hash) do update set sent_at = excluded.sent_at, alert = excluded.alert, delivered_at = excluded.delivered_at
        where alert_deliveries.sent_at <= ${claim.repeatAfter.toISOString()}::timestamptz
      returning 1
    )
    insert into audit_log (wallet_id, actor, action, details)
    select ${claim.walletId}::uuid, ${claim.audit.actor}, ${claim.audit.action}, ${JSON.stringify(claim.audit.details)}::jsonb from claimed
    returning id`)
  return rows.length > 0
}

/** This claim's row, and only while it is this claim's: not once another process (or a sweep) claimed it again (a later `sent_at`). */
export function thisClaim(claim: Pick<AlertClaim, 'walletId' | 'code' | 'detailsHash' | 'at'>): SQL {
  return and(eq(alertDeliveries.walletId, claim.walletId), eq(alertDeliveries.code, claim.code),
    eq(alertDeliveries.detailsHash, claim.detailsHash), eq(alertDeliveries.sentAt, claim.at))!
}
