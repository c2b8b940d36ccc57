import { eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { wallets } from '../schema/index.js'

/** What `lockWallet` answers of the row it locked. */
export type LockedWallet = { id: string; status: string; haltedReason: string | null; tenantId: string | null; retiredAt: Date | null }

/**
 * The wallet row under `FOR NO KEY UPDATE`, inside a transaction: what serializes a wallet's session
 * grants and refusals, the holding of its work for want of a session, its schedules becoming active
 * and its policy changes. `no key update` does not wait on foreign-key checks of inserts (intake).
 * Answers the wallet's id, status (and why it is halted), tenant and retirement, or undefined when there is no such wallet.
 */
export async function lockWallet(tx: Db, walletId: string): Promise<LockedWallet | undefined> {
  const [wallet] = await tx.select({ id: wallets.id, status: wallets.status, haltedReason: wallets.haltedReason, tenantId: wallets.tenantId, retiredAt: wallets.retiredAt })
    .from(wallets).where(eq(wallets.id, walletId)).for('no key update')
  return wallet
}

/**
 * Several wallets' rows under `lockWallet`'s lock, in id order, as every statement locking several
 * wallets takes them (intake's share lock too): in any other order two such transactions could deadlock.
 */
export async function lockWallets(tx: Db, walletIds: readonly string[]): Promise<void> {
  if (walletIds.length) await tx.select({ id: wallets.id }).from(wallets).where(inArray(wallets.id, [...walletIds])).orderBy(wallets.id).for('no key update')
}

/**
 * The wallet's advisory lock, exclusively, for the rest of the transaction: what a halt (the kill
 * switch, a compromise) takes before it sets the wallet `halted`. `insertSignedRequests` takes it
 * shared before it reads whether the wallet is halted (`deputy_halted_wallets`, migration 0030): a
 * request persisted before the halt is committed before the halt looks for what is on the wire, and
 * one persisted after it sees the wallet halted.
 */
export async function lockWalletToHalt(tx: Db, walletId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(1146115161, hashtext(${walletId}::text))`)
}

/**
 * The wallet's policy lock (an advisory lock, not the halt's), for the rest of the transaction: a
 * policy change (`setPolicy`) and a check under rules with a counting limit take it exclusively, a
 * check under rules with none shared. Each check reads the rules and records what it let through
 * (`policy_passed_at`) under it, so a change waits for the checks under way and the checks after it
 * read the changed rules and count what those let through. Advisory, not the wallet row: no
 * wait behind the row's other writers (session grants, intake), and checks under rules with no
 * counting limit run side by side.
 */
export async function lockWalletPolicy(tx: Db, walletId: string, mode: 'shared' | 'exclusive'): Promise<void> {
  await tx.execute(mode === 'shared'
    ? sql`select pg_advisory_xact_lock_shared(1146115152, hashtext(${walletId}::text))`
    : sql`select pg_advisory_xact_lock(1146115152, hashtext(${walletId}::text))`)
}
