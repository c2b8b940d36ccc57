import { check, index, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core'
import { amount, createdAt, oneOf, sequence, side, timestamptz } from './columns.js'
import { orders } from './orders.js'
import { wallets } from './wallets.js'

/**
 * Executions, from the event stream or a reconcile read. The operator's
 * `fillId` is the idempotency key, so both sources may record the same fill.
 */
export const fills = pgTable(
  'fills',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    walletId: uuid('wallet_id').notNull().references(() => wallets.id),
    /** Null when the fill's cloid matches no local order (found by reconcile). */
    orderId: uuid('order_id').references(() => orders.id),
    fillId: text('fill_id').notNull(),
    clientOrderId: text('client_order_id').notNull(),
    market: text('market').notNull(),
    side: side('side').notNull(),
    price: amount('price').notNull(),
    size: amount('size').notNull(),
    fee: amount('fee').notNull(),
    seq: sequence('seq').notNull(),
    /** When the operator executed it. */
    at: timestamptz('at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique('fills_wallet_fill_id_unique').on(t.walletId, t.fillId),
    index('fills_order_idx').on(t.orderId),
    index('fills_wallet_client_order_id_idx').on(t.walletId, t.clientOrderId),
    check('fills_side_check', oneOf(t.side, [0, 1])),
  ],
)

export type FillRow = typeof fills.$inferSelect
export type NewFillRow = typeof fills.$inferInsert
