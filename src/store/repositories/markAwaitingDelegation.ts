import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { sessions, wallets } from '../schema/index.js'

/** An `active` wallet with no active session: one that awaits a delegation. */
export const activeWithoutSession = and(eq(wallets.status, 'active'),
  sql`not exists (select 1 from ${sessions} where ${sessions.walletId} = ${wallets.id} and ${sessions.status} = 'active')`)!

/**
 * Marks those of `walletIds` that are `active` with no active session left `awaiting_delegation`
 * (a halted wallet stays halted), in the caller's transaction, under their locks (`lockWallet`,
 * `lockWallets`). Answers the wallets marked.
 */
export async function markAwaitingDelegation(tx: Db, walletIds: readonly string[]): Promise<string[]> {
  if (walletIds.length === 0) return []
  const marked = await tx.update(wallets).set({ status: 'awaiting_delegation' })
    .where(and(inArray(wallets.id, [...walletIds]), activeWithoutSession)).returning({ id: wallets.id })
  return marked.map((wallet) => wallet.id)
}
