import { sql } from 'drizzle-orm'
import { check, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt, oneOf, updatedAt } from './columns.js'

export const walletStatuses = ['active', 'halted', 'awaiting_delegation'] as const
export type WalletStatus = (typeof walletStatuses)[number]

/** A user's EOA the worker trades for. Its private key never reaches Deputy. */
export const wallets = pgTable(
  'wallets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // EIP-55 checksummed (viem `getAddress`); the unique key compares bytes, so
    // writers must normalise before inserting or looking up.
    address: text('address').notNull().unique('wallets_address_unique'),
    tenantId: text('tenant_id'),
    /** The wallet's id at its custody service (a Privy wallet id), when one signs its Delegations. */
    custodyWalletId: text('custody_wallet_id'),
    status: text('status', { enum: walletStatuses }).notNull().default('awaiting_delegation'),
    haltedReason: text('halted_reason'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('wallets_status_check', oneOf(t.status, walletStatuses)),
    check('wallets_address_format', sql`${t.address} ~ '^0x[0-9a-fA-F]{40}$'`),
    check('wallets_halted_reason', sql`${t.status} <> 'halted' or ${t.haltedReason} is not null`),
  ],
)

export type WalletRow = typeof wallets.$inferSelect
export type NewWalletRow = typeof wallets.$inferInsert
