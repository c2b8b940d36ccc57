import { type RequestFamily, requestFamilies } from '../../core/acl/actions.js'
import { sql } from 'drizzle-orm'
import { bigint, boolean, check, index, jsonb, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core'
import { createdAt, oneOf, timestamptz } from './columns.js'
import { orders } from './orders.js'
import { sessions } from './sessions.js'
import { wallets } from './wallets.js'

/**
 * `signed`: persisted, and maybe sent (a crash between the send and its answer leaves it so; the
 * retry resends the same bytes). `unknown`: sent and its answer lost. `accepted` / `rejected`: the
 * operator's answer. (There is no `sent`: marking it would cost a write per request before the
 * send and tell nothing `sent_at` and `signed` do not.)
 */
export const requestStatuses = ['signed', 'accepted', 'rejected', 'unknown'] as const
export type RequestStatus = (typeof requestStatuses)[number]

/**
 * Every signed request, persisted before it is sent. On a lost response the
 * worker resends `body` byte for byte, which the operator answers with the
 * original receipt (`duplicate: true`) instead of acting twice.
 */
export const requests = pgTable(
  'requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    walletId: uuid('wallet_id').notNull().references(() => wallets.id),
    sessionId: uuid('session_id').notNull().references(() => sessions.id),
    orderId: uuid('order_id').references(() => orders.id),
    /** The outbox row (and BullMQ job) that produced it. Not a foreign key: outbox rows may be pruned. */
    outboxId: uuid('outbox_id'),
    family: text('family').$type<RequestFamily>().notNull(),
    /** uint64; `unix_ms * 1000 + counter` is near 2^51, bigint keeps it exact with room. */
    nonce: bigint('nonce', { mode: 'bigint' }).notNull(),
    /** Unix ms. */
    deadline: bigint('deadline', { mode: 'number' }).notNull(),
    /** The exact JSON bytes POSTed, signature included. */
    body: text('body').notNull(),
    status: text('status', { enum: requestStatuses }).notNull().default('signed'),
    receipt: jsonb('receipt').$type<Record<string, unknown>>(),
    duplicate: boolean('duplicate').notNull().default(false),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    createdAt: createdAt(),
    /**
     * When the first send whose outcome was stored began (this process's clock): an answer, a lost
     * answer, a refusal. Null until then, so also for a request sent right before a crash, which
     * its retry sends again.
     */
    sentAt: timestamptz('sent_at'),
    completedAt: timestamptz('completed_at'),
  },
  (t) => [
    // The operator rejects a reused nonce per session key; catching it here
    // surfaces a broken nonce generator before anything is sent.
    unique('requests_session_nonce_unique').on(t.sessionId, t.nonce),
    index('requests_order_idx').on(t.orderId),
    // A wallet's recent requests (the policy's requests-per-minute rule; the metrics' submit latency,
    // wallet by wallet). Nothing looks requests up
    // by status alone, and with status out of every index a status change can be a HOT update.
    index('requests_wallet_created_idx').on(t.walletId, t.createdAt),
    index('requests_outbox_idx').on(t.outboxId),
    // Requests the operator refused, by code (the metrics' deputy_operator_errors). Accepted ones
    // are not in it, and their receipt leaves error_code null, so it stays a HOT update.
    index('requests_error_code_idx').on(t.errorCode).where(sql`${t.errorCode} is not null`),
    check('requests_family_check', oneOf(t.family, requestFamilies)),
    check('requests_status_check', oneOf(t.status, requestStatuses)),
    check('requests_nonce_uint64', sql`${t.nonce} >= 0`),
  ],
)

export type RequestRow = typeof requests.$inferSelect
export type NewRequestRow = typeof requests.$inferInsert
