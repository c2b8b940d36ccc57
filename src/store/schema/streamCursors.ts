import { pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { sequence, timestamptz, updatedAt } from './columns.js'
import { wallets } from './wallets.js'

/**
 * Where each wallet's event stream resumes, and who may consume it. A worker
 * takes the lease (owner + deadline) with a conditional update, so across
 * processes one consumer per wallet applies events; an expired lease may be
 * taken over.
 */
export const streamCursors = pgTable('stream_cursors', {
  walletId: uuid('wallet_id').primaryKey().references(() => wallets.id),
  lastSeq: sequence('last_seq').notNull().default(0),
  leaseOwner: text('lease_owner'),
  leaseUntil: timestamptz('lease_until'),
  updatedAt: updatedAt(),
})

export type StreamCursorRow = typeof streamCursors.$inferSelect
export type NewStreamCursorRow = typeof streamCursors.$inferInsert
