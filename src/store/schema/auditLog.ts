import { sql } from 'drizzle-orm'
import { bigint, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { timestamptz } from './columns.js'

/** Who did what, append-only. Details must never carry key material. */
export type AuditActor = 'worker' | 'reconciler' | 'api' | 'cli' | 'scheduler' | (string & {})

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamptz('at').notNull().defaultNow(),
    // Not a foreign key: the trail must outlive, and may precede, a wallet row.
    walletId: uuid('wallet_id'),
    actor: text('actor').$type<AuditActor>().notNull(),
    action: text('action').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    // A wallet's trail, newest first, a page at a time (GET /v1/wallets/{id}/audit: id < cursor).
    index('audit_log_wallet_id_idx').on(t.walletId, t.id),
    // The reconciler's repairs, by action (the metrics' deputy_reconciliation_repairs).
    index('audit_log_reconciler_action_idx').on(t.action).where(sql`${t.actor} = 'reconciler'`),
    // The alerts raised, by code (the metrics' deputy_alerts).
    index('audit_log_alert_idx').on(t.action).where(sql`${t.action} like 'alert.%'`),
    // A wallet's operator events passed over as malformed, which reconciliation reads back (`passedOverFills`).
    index('audit_log_event_unappliable_idx').on(t.walletId).where(sql`${t.action} = 'event.unappliable'`),
    // The cancels an API ask joined, which a retry under its Idempotency-Key answers again (`requestCancel`).
    index('audit_log_cancel_joined_idx').on(t.walletId, sql`(${t.details}->>'actionId')`).where(sql`${t.action} = 'CancelOrder.joined'`),
  ],
)

export type AuditLogRow = typeof auditLog.$inferSelect
export type NewAuditLogRow = typeof auditLog.$inferInsert
