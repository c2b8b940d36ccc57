import { sql } from 'drizzle-orm'
import { check, index, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt, timestamptz } from './columns.js'
import { tenants } from './tenants.js'

/**
 * A tenant's API key. Only the SHA-256 of the secret is stored: the key itself
 * is shown once, at creation. The row id is part of the presented key, so a
 * lookup is by id and the hash comparison runs in constant time.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').notNull().references(() => tenants.id),
    /** Hex SHA-256 of the 32-byte random secret. */
    secretHash: text('secret_hash').notNull(),
    label: text('label'),
    createdAt: createdAt(),
    lastUsedAt: timestamptz('last_used_at'),
    revokedAt: timestamptz('revoked_at'),
  },
  (t) => [
    index('api_keys_tenant_idx').on(t.tenantId),
    check('api_keys_secret_hash_format', sql`${t.secretHash} ~ '^[0-9a-f]{64}$'`),
  ],
)

export type ApiKeyRow = typeof apiKeys.$inferSelect
export type NewApiKeyRow = typeof apiKeys.$inferInsert
