import { type RequestFamily, requestFamilies } from '../../core/acl/actions.js'
import { sql } from 'drizzle-orm'
import { bigint, check, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt, oneOf, timestamptz, updatedAt } from './columns.js'
import { orders } from './orders.js'
import { wallets } from './wallets.js'

export const outboxStatuses = ['pending', 'enqueued', 'done', 'failed', 'held'] as const
export type OutboxStatus = (typeof outboxStatuses)[number]
/** Work not settled yet: queued, in BullMQ (or on the wire), or held for a session. */
export const unfinishedOutboxStatuses = ['pending', 'enqueued', 'held'] as const satisfies readonly OutboxStatus[]

/**
 * Work written in the same transaction as the state that calls for it, then
 * handed to BullMQ. The row id is the job id, so enqueueing twice collapses.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /**
     * Creation order, strictly increasing even within one transaction: requests
     * for the same order are sent in this order (a Modify never overtakes its Order).
     */
    seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    /**
     * Bumped each time a held row is released; the BullMQ job id is the row id
     * plus the generation, since a finished job keeps its id for dedupe.
     */
    generation: integer('generation').notNull().default(0),
    walletId: uuid('wallet_id').notNull().references(() => wallets.id),
    kind: text('kind').$type<RequestFamily>().notNull(),
    orderId: uuid('order_id').references(() => orders.id),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: outboxStatuses }).notNull().default('pending'),
    /** Not before this time (backoff, scheduled slots). */
    availableAt: timestamptz('available_at').notNull().defaultNow(),
    enqueuedAt: timestamptz('enqueued_at'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /**
     * When the wallet's stored policy let this ModifyOrder through (under its policy lock,
     * `createPolicyCheck`): from then, and until it is answered, its order counts at the greater of
     * its notional and this modify's. One not checked yet (held for a scope change or a session,
     * or waiting for its order's answer) does not count, whatever else checked its order since.
     */
    policyPassedAt: timestamptz('policy_passed_at'),
    /**
     * The BullMQ priority of the row's job, set when the relay hands it over: its place in its wallet's
     * backlog (counting on from the wallet's last numbered row while that one is still enqueued, from 1
     * otherwise, up through a batch in seq order), so one wallet's thousand queued orders do not hold
     * another wallet's next request behind them, and a wallet's own requests keep their order. 1 for a
     * row relayed before it is due (a good-till cancel), which is not counted. Null until relayed.
     */
    priority: integer('priority'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // The dispatcher and the sweeper scan by status, oldest available first.
    index('outbox_status_available_idx').on(t.status, t.availableAt),
    index('outbox_order_seq_idx').on(t.orderId, t.seq),
    // Whether a CancelAll was asked after an order was queued (`cancelAllAsked`), read on every claim
    // and receipt of an Order: only CancelAll rows, which are rare, are in it.
    index('outbox_cancel_all_idx').on(t.walletId, t.seq).where(sql`${t.kind} = 'CancelAll'`),
    // A wallet's last row the relay numbered (`takeDue`'s base): rows with a priority, newest seq first.
    index('outbox_wallet_prioritized_idx').on(t.walletId, t.seq).where(sql`${t.priority} is not null`),
    check('outbox_kind_check', oneOf(t.kind, requestFamilies)),
    check('outbox_status_check', oneOf(t.status, outboxStatuses)),
  ],
)

export type OutboxRow = typeof outbox.$inferSelect
export type NewOutboxRow = typeof outbox.$inferInsert
