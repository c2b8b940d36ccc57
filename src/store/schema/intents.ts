import { sql } from 'drizzle-orm'
import { check, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { amount, createdAt, oneOf, side, timeInForce, timestamptz, updatedAt } from './columns.js'
import { wallets } from './wallets.js'

export const intentKinds = ['limit', 'rebalance'] as const
export type IntentKind = (typeof intentKinds)[number]

/**
 * The user's wish, not the outcome (the intent's orders carry that: filled, rejected, …): `active`
 * until a cancel is asked (`cancel_requested`), `cancelled` once the work is dropped or cancelled.
 * A filled order leaves its intent `active`. (`done` and `rejected` were listed once and never written.)
 */
export const intentStatuses = ['active', 'cancel_requested', 'cancelled'] as const
export type IntentStatus = (typeof intentStatuses)[number]

/**
 * What a user (or a schedule run) wants, independent of the orders placed for
 * it. `revision` feeds the client order id, so bumping it is the only way to
 * get a new order for the same intent.
 */
export const intents = pgTable(
  'intents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    walletId: uuid('wallet_id').notNull().references(() => wallets.id),
    kind: text('kind', { enum: intentKinds }).notNull(),
    /** The caller's idempotency key at intake. */
    clientRef: text('client_ref'),
    market: text('market').notNull(),
    side: side('side').notNull(),
    price: amount('price').notNull(),
    size: amount('size').notNull(),
    timeInForce: timeInForce('time_in_force').notNull(),
    goodTill: timestamptz('good_till'),
    /** Set for rebalance legs: (schedule, slot, leg) names one leg of one run. */
    scheduleId: uuid('schedule_id'),
    slotAt: timestamptz('slot_at'),
    leg: integer('leg'),
    status: text('status', { enum: intentStatuses }).notNull().default('active'),
    revision: integer('revision').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // NULLs are distinct, so intents without a client_ref never collide, and
    // `on conflict (wallet_id, client_ref)` still works for those with one.
    uniqueIndex('intents_wallet_client_ref_unique').on(t.walletId, t.clientRef),
    // A schedule run retried after a crash must not add a second copy of a leg.
    uniqueIndex('intents_schedule_slot_leg_unique').on(t.scheduleId, t.slotAt, t.leg),
    index('intents_wallet_status_idx').on(t.walletId, t.status),
    check('intents_kind_check', oneOf(t.kind, intentKinds)),
    check('intents_status_check', oneOf(t.status, intentStatuses)),
    check('intents_side_check', oneOf(t.side, [0, 1])),
    check('intents_time_in_force_check', oneOf(t.timeInForce, [0, 1, 2])),
    check('intents_amounts_positive', sql`${t.price} > 0 and ${t.size} > 0`),
    check('intents_revision_non_negative', sql`${t.revision} >= 0`),
    check(
      'intents_schedule_complete',
      sql`(${t.scheduleId} is null and ${t.slotAt} is null and ${t.leg} is null) or (${t.scheduleId} is not null and ${t.slotAt} is not null and ${t.leg} is not null)`,
    ),
  ],
)

export type IntentRow = typeof intents.$inferSelect
export type NewIntentRow = typeof intents.$inferInsert
