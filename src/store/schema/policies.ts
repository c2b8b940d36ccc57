import { sql } from 'drizzle-orm'
import { jsonb, pgTable, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, updatedAt } from './columns.js'
import { sessions } from './sessions.js'
import { wallets } from './wallets.js'

/**
 * Local trading limits, per wallet (session_id null) and optionally per session.
 * Rules are stored as user input (amounts as decimal strings) and parsed with
 * core's `parsePolicyRules` on read.
 */
export const policies = pgTable(
  'policies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    walletId: uuid('wallet_id').notNull().references(() => wallets.id),
    sessionId: uuid('session_id').references(() => sessions.id),
    rules: jsonb('rules').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('policies_wallet_unique').on(t.walletId).where(sql`${t.sessionId} is null`),
    uniqueIndex('policies_wallet_session_unique').on(t.walletId, t.sessionId).where(sql`${t.sessionId} is not null`),
  ],
)

export type PolicyRow = typeof policies.$inferSelect
export type NewPolicyRow = typeof policies.$inferInsert
