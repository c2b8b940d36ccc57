import { jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { timestamptz } from './columns.js'

/**
 * When each alert (wallet, code, details) last went out, shared by every worker and API process:
 * the alert sink claims an alert here before it writes `alert.<code>` to the audit trail and POSTs
 * it, so the same alert goes out once an hour across processes and restarts, not once per process
 * (`claimAlert`), and a POST its process did not live to finish is sent by another (`delivered_at`).
 * Rows older than the hour mean nothing once delivered and are deleted (`pruneAlertDeliveries`).
 */
export const alertDeliveries = pgTable(
  'alert_deliveries',
  {
    // Not a foreign key, as in the audit trail: an alert may name a wallet row that is not there.
    walletId: uuid('wallet_id').notNull(),
    code: text('code').notNull(),
    /** Hex SHA-256 of the alert's details as JSON (`{}` for none). */
    detailsHash: text('details_hash').notNull(),
    /** The raising process's clock when it claimed the alert (or a sweep claimed it again, `resendUndelivered`). */
    sentAt: timestamptz('sent_at').notNull(),
    /** The alert as raised (code, wallet, message, details, and when: `at`, unix ms): what a sweep sends again. */
    alert: jsonb('alert').$type<StoredAlert>(),
    /**
     * When its webhook POST succeeded; null while it is under way. A claim whose process died before
     * the POST ended stays null, and another process's sweep sends it (`resendUndelivered`). Set at
     * the claim when the claiming process has no webhook (nothing to send).
     */
    deliveredAt: timestamptz('delivered_at'),
  },
  (t) => [primaryKey({ name: 'alert_deliveries_pk', columns: [t.walletId, t.code, t.detailsHash] })],
)

/** An alert as `alert_deliveries` keeps it. */
export type StoredAlert = { walletId: string; code: string; message: string; details?: Record<string, unknown>; at: number }

export type AlertDeliveryRow = typeof alertDeliveries.$inferSelect
export type NewAlertDeliveryRow = typeof alertDeliveries.$inferInsert
