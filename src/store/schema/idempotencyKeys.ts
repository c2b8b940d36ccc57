import { sql } from 'drizzle-orm'
import { check, index, integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt, timestamptz } from './columns.js'

/**
 * `Idempotency-Key` of API POSTs, per principal (a tenant id, or `admin`). The
 * first request claims the key with its fingerprint (method, route, body); the
 * stored response is replayed to every later request with the same key and the
 * same fingerprint. `status` is null while the first request is still running.
 * `action_id` names what the request does, for every attempt under the claim: a
 * request taking over a claim whose attempt died (or whose answer could not be
 * stored) keeps it, so an action keyed by it (a placement's intent id, the outbox
 * row of a modify, cancel, CancelAll, halt or compromise) is found,
 * not done twice.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    /** Not a foreign key: the admin principal has no tenant row. */
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    /** Hex SHA-256 of the canonical JSON of method, route and body. */
    fingerprint: text('fingerprint').notNull(),
    actionId: uuid('action_id').notNull().defaultRandom(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    status: integer('status'),
    response: jsonb('response').$type<unknown>(),
    createdAt: createdAt(),
    completedAt: timestamptz('completed_at'),
    expiresAt: timestamptz('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ name: 'idempotency_keys_pk', columns: [t.scope, t.key] }),
    index('idempotency_keys_expires_idx').on(t.expiresAt),
    check('idempotency_keys_status_range', sql`${t.status} is null or ${t.status} between 100 and 599`),
  ],
)

export type IdempotencyKeyRow = typeof idempotencyKeys.$inferSelect
export type NewIdempotencyKeyRow = typeof idempotencyKeys.$inferInsert
