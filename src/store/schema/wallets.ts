import { sql } from 'drizzle-orm'
import { check, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, oneOf, timestamptz, updatedAt } from './columns.js'

export const walletStatuses = ['active', 'halted', 'awaiting_delegation'] as const
export type WalletStatus = (typeof walletStatuses)[number]

/** A user's EOA the worker trades for. Its private key never reaches Deputy. */
export const wallets = pgTable(
  'wallets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // EIP-55 checksummed (viem `getAddress`); the unique key compares bytes, so
    // writers must normalise before inserting or looking up. Unique among rows not retired.
    address: text('address').notNull(),
    tenantId: text('tenant_id'),
    /** The wallet's id at its custody service (a Privy wallet id), when one signs its Delegations. */
    custodyWalletId: text('custody_wallet_id'),
    status: text('status', { enum: walletStatuses }).notNull().default('awaiting_delegation'),
    haltedReason: text('halted_reason'),
    /**
     * When another tenant proved ownership of the address, which this tenant had registered without
     * proof and never had a session for (`takeUnprovenWallet`): the row, its ended work and its
     * history stay this tenant's, but the wallet answers as unknown and takes no more work; the
     * address is registered again on a new row for the owner's tenant.
     */
    retiredAt: timestamptz('retired_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // Lookups by address (`ensureWallet`) infer this index with the same predicate.
    uniqueIndex('wallets_address_live_unique').on(t.address).where(sql`${t.retiredAt} is null`),
    check('wallets_status_check', oneOf(t.status, walletStatuses)),
    check('wallets_address_format', sql`${t.address} ~ '^0x[0-9a-fA-F]{40}$'`),
    check('wallets_halted_reason', sql`${t.status} <> 'halted' or ${t.haltedReason} is not null`),
  ],
)

export type WalletRow = typeof wallets.$inferSelect
export type NewWalletRow = typeof wallets.$inferInsert
