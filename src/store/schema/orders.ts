import { sql } from 'drizzle-orm'
import { type OrderState, orderStates } from '../../core/orders/orderState.js'
import { check, index, integer, numeric, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core'
import { amount, createdAt, oneOf, sequence, side, timeInForce, timestamptz, updatedAtOnPostgresClock } from './columns.js'
import { intents } from './intents.js'
import { sessions } from './sessions.js'
import { wallets } from './wallets.js'

// The states are the order state machine's (src/core/orders), stored as text with a CHECK.
export { type OrderState, orderStates }

/** One order at the operator, keyed by its client order id (the idempotency key). */
export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    walletId: uuid('wallet_id').notNull().references(() => wallets.id),
    intentId: uuid('intent_id').references(() => intents.id),
    /** bytes16 hex (`0x` + 32 hex digits), derived from the intent and its revision. */
    clientOrderId: text('client_order_id').notNull(),
    market: text('market').notNull(),
    side: side('side').notNull(),
    price: amount('price').notNull(),
    size: amount('size').notNull(),
    /** Null for an adopted orphan: the operator's order reads do not carry it (PROTOCOL.md §6). */
    timeInForce: timeInForce('time_in_force'),
    state: text('state', { enum: orderStates }).notNull().default('pending'),
    /** The operator's `revision`, so a stale read never overwrites a newer one. */
    venueRevision: integer('venue_revision').notNull().default(0),
    filled: amount('filled').notNull().default('0'),
    /**
     * Sum of price × size over the fills, as the raw integer product of two
     * 18-decimal amounts (36 implied decimals), so the average price stays exact.
     * 156 digits hold any product of two uint256.
     */
    filledNotional: numeric('filled_notional', { precision: 156, scale: 0, mode: 'string' }).notNull().default('0'),
    averagePrice: amount('average_price'),
    fees: amount('fees').notNull().default('0'),
    venueOrderId: text('venue_order_id'),
    /** The session whose key placed it; revoking that session cancels it. */
    sessionId: uuid('session_id').references(() => sessions.id),
    /** Last stream event applied, so replays and duplicates are no-ops. */
    lastEventSeq: sequence('last_event_seq'),
    rejectCode: text('reject_code'),
    rejectReason: text('reject_reason'),
    cancelReason: text('cancel_reason'),
    /**
     * The order placed again for the same intent after this one's session ended
     * (`replaceSessionOrder`); set once, so one cancelled order is replaced at most
     * once however its cancel is learnt. Not a foreign key, so adding it rewrote nothing.
     */
    replacedBy: uuid('replaced_by'),
    /**
     * When the wallet's stored policy let this order's placement through (under its policy lock,
     * `createPolicyCheck`). An order on its way to the operator counts towards the wallet's limits
     * from then: one claimed but not checked yet does not, so a burst over a limit places exactly up to it.
     */
    policyPassedAt: timestamptz('policy_passed_at'),
    /**
     * When reconciliation adopted it: an orphan (ORPHAN_POLICY), an order the operator listed open for
     * the wallet that Deputy did not place, recorded from the operator's read. Null for Deputy's own.
     */
    adoptedAt: timestamptz('adopted_at'),
    createdAt: createdAt(),
    /**
     * On Postgres's clock, as the raw SQL writers' now(): readers compare it with a moment they take
     * on that clock too (`postgresNow`): a read of the order at the operator, the reconciler's settling time.
     */
    updatedAt: updatedAtOnPostgresClock(),
  },
  (t) => [
    // The operator enforces the same rule; holding it here too means a retry can
    // never record a second order under one cloid.
    unique('orders_wallet_client_order_id_unique').on(t.walletId, t.clientOrderId),
    index('orders_wallet_state_idx').on(t.walletId, t.state),
    index('orders_intent_idx').on(t.intentId),
    check('orders_state_check', oneOf(t.state, orderStates)),
    check('orders_side_check', oneOf(t.side, [0, 1])),
    check('orders_time_in_force_check', oneOf(t.timeInForce, [0, 1, 2])),
    check('orders_client_order_id_format', sql`${t.clientOrderId} ~ '^0x[0-9a-fA-F]{32}$'`),
    check('orders_filled_non_negative', sql`${t.filled} >= 0 and ${t.filledNotional} >= 0`),
  ],
)

export type OrderRow = typeof orders.$inferSelect
export type NewOrderRow = typeof orders.$inferInsert
