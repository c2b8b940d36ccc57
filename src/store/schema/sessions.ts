import type { AclAction } from '../../core/acl/actions.js'
import { sql } from 'drizzle-orm'
import { bigint, check, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, oneOf, timestamptz, uint64String, updatedAtOnPostgresClock } from './columns.js'
import { wallets } from './wallets.js'

export const sessionStatuses = ['pending', 'delegated', 'active', 'rotating', 'revoked', 'expired', 'quarantined'] as const
export type SessionStatus = (typeof sessionStatuses)[number]

/**
 * A delegated session key (ARCHITECTURE.md "Sessions"). The private key is
 * stored sealed (envelope-encrypted); the table never holds it in the clear.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    walletId: uuid('wallet_id').notNull().references(() => wallets.id),
    status: text('status', { enum: sessionStatuses }).notNull().default('pending'),
    statusReason: text('status_reason'),
    /** 33-byte compressed SEC1 hex, `0x02…` / `0x03…`. */
    publicKey: text('public_key').notNull().unique('sessions_public_key_unique'),
    sealedPrivateKey: text('sealed_private_key').notNull(),
    /** Which master key sealed it, so keys can be rotated without guessing. */
    masterKeyId: text('master_key_id').notNull(),
    aclScope: text('acl_scope').array().notNull().$type<AclAction[]>(),
    /**
     * The scope the user chose explicitly (the API's `families`, `needs` or `unrestricted`, on a
     * grant or a rotation), carried from session to session: session maintenance's rotations never
     * ask for less (`routineScope`). Null when the worker chose the scope (the default, a scope
     * change's): its rotations narrow it to what the wallet's work needs. Sessions granted before
     * migration 0029 have their own scope here (whoever chose it, it is kept as it was).
     */
    chosenScope: text('chosen_scope').array().$type<AclAction[]>(),
    expiry: timestamptz('expiry').notNull(),
    /** The Delegation's uint64 `expiry` exactly as signed (unix seconds). */
    expiryUnix: bigint('expiry_unix', { mode: 'number' }).notNull(),
    delegationNonce: uint64String('delegation_nonce').notNull(),
    /**
     * The lifetime the grant asked for (the Delegation's expiry less the grant's time on the
     * operator's clock): a rotation keeps it, so a session granted for a day is replaced by one of
     * a day, not of SESSION_LIFETIME_SECONDS. Null on sessions granted before migration 0018.
     */
    lifetimeSeconds: integer('lifetime_seconds'),
    /** EIP-712 digest of the Delegation; null until the wallet has signed. */
    delegationHash: text('delegation_hash').unique('sessions_delegation_hash_unique'),
    /** abi-encoded delegated payload attached to every request (PROTOCOL.md §3). */
    delegatedPayload: text('delegated_payload'),
    /** The wallet signer that signed the Delegation (`local`, `privy`). */
    walletSigner: text('wallet_signer').notNull(),
    createdAt: createdAt(),
    delegatedAt: timestamptz('delegated_at'),
    activatedAt: timestamptz('activated_at'),
    /**
     * When it ended at the operator: revoked there (or found already revoked or expired), or refused
     * by it. Also set on a grant ended before the wallet signed (nothing to revoke). Null on a
     * `revoked` row whose signed delegation the operator was never told about (a grant that did not
     * go live), and on a `quarantined` one (the operator answered SignerMismatch, which ends nothing
     * there): session maintenance revokes those at the operator while they are unexpired.
     */
    revokedAt: timestamptz('revoked_at'),
    /**
     * When this session failed: its grant failed (the wallet signer, the pre-live checks), or the
     * operator refused it while it was the wallet's active one (SessionUnauthorized while unexpired,
     * SignerMismatch). Automatic grants back off on a wallet's recent failures (`grantRetryDelayMs`).
     */
    failedAt: timestamptz('failed_at'),
    // On Postgres's clock: for a session rotated out it dates the rotation, whose grace session
    // maintenance measures on that clock, in whichever process (`maintainSessions`).
    updatedAt: updatedAtOnPostgresClock(),
  },
  (t) => [
    // Two active keys for one wallet would split nonces and orders between them.
    uniqueIndex('sessions_one_active_per_wallet').on(t.walletId).where(sql`${t.status} = 'active'`),
    // One grant in flight per wallet, across processes: a second rotation waits its turn
    // instead of asking the wallet for a second signature.
    uniqueIndex('sessions_one_grant_in_progress').on(t.walletId).where(sql`${t.status} in ('pending', 'delegated')`),
    index('sessions_wallet_status_idx').on(t.walletId, t.status),
    // The rotation sweep looks for live sessions nearing expiry.
    index('sessions_status_expiry_idx').on(t.status, t.expiry),
    check('sessions_status_check', oneOf(t.status, sessionStatuses)),
    check('sessions_public_key_format', sql`${t.publicKey} ~ '^0x0[23][0-9a-fA-F]{64}$'`),
    check('sessions_delegation_hash_format', sql`${t.delegationHash} ~ '^0x[0-9a-fA-F]{64}$'`),
    check('sessions_acl_scope_not_empty', sql`cardinality(${t.aclScope}) > 0`),
    // Both spellings of the signed expiry must agree: write `expiry` as
    // `new Date(expiryUnix * 1000)`.
    check('sessions_expiry_matches_unix', sql`${t.expiry} = to_timestamp(${t.expiryUnix})`),
    // A key that can sign must carry the delegation it signs under.
    check(
      'sessions_delegated_has_payload',
      sql`${t.status} not in ('delegated', 'active', 'rotating') or (${t.delegationHash} is not null and ${t.delegatedPayload} is not null)`,
    ),
  ],
)

export type SessionRow = typeof sessions.$inferSelect
export type NewSessionRow = typeof sessions.$inferInsert
