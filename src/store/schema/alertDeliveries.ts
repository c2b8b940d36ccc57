import { pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { timestamptz } from './columns.js'

/**
 * When each alert (wallet, code, details) last went out, shared by every worker and API process:
 * the alert sink claims an alert here before it writes `alert.<code>` to the audit trail and POSTs
 * it, so the same alert goes out once an hour across processes and restarts, not once per process
 * (`claimAlert`). Rows older than the hour mean nothing and are deleted (`pruneAlertDeliveries`).
 */
export const alertDeliveries = pgTable(
  'alert_deliveries',
  {
    // Not a foreign key, as in the audit trail: an alert may name a wallet row that is not there.
    walletId: uuid('wallet_id').notNull(),
    code: text('code').notNull(),
    /** Hex SHA-256 of the alert's details as JSON (`{}` for none). */
    detailsHash: text('details_hash').notNull(),
    /** The raising process's clock when it claimed the alert. */
    sentAt: timestamptz('sent_at').notNull(),
  },
  (t) => [primaryKey({ name: 'alert_deliveries_pk', columns: [t.walletId, t.code, t.detailsHash] })],
)

export type AlertDeliveryRow = typeof alertDeliveries.$inferSelect
export type NewAlertDeliveryRow = typeof alertDeliveries.$inferInsert
