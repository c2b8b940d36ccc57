import { bigint, index, jsonb, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core'
import { sequence, timestamptz } from './columns.js'
import { wallets } from './wallets.js'

/**
 * The operator's event stream as received (PROTOCOL.md §7), one row per
 * (wallet, seq). Delivery is at-least-once, so inserts use
 * `on conflict do nothing` on that key.
 */
export const events = pgTable(
  'events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    walletId: uuid('wallet_id').notNull().references(() => wallets.id),
    seq: sequence('seq').notNull(),
    /** `OrderAccepted`, `OrderFilled`, … as the operator names them. */
    type: text('type').notNull(),
    clientOrderId: text('client_order_id'),
    /** The whole event as received. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    receivedAt: timestamptz('received_at').notNull().defaultNow(),
  },
  (t) => [
    unique('events_wallet_seq_unique').on(t.walletId, t.seq),
    index('events_wallet_client_order_id_idx').on(t.walletId, t.clientOrderId),
  ],
)

export type EventRow = typeof events.$inferSelect
export type NewEventRow = typeof events.$inferInsert
