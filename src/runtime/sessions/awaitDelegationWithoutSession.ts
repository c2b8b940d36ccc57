import { and, eq } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { lockWallets } from '../../store/repositories/lockWallet.js'
import { activeWithoutSession, markAwaitingDelegation } from '../../store/repositories/markAwaitingDelegation.js'
import { wallets } from '../../store/schema/index.js'

/**
 * Wallets `active` with no active session: marked `awaiting_delegation`, which is what they are, so
 * session maintenance finds them due for a grant (it grants a wallet without a session only when it
 * awaits one). Only an interrupted write leaves one so: a path that ends a session and marks its
 * wallet in a later transaction (the operator's SessionRevoked or SessionExpired, applied with the
 * event batch, the wallet marked after it), the process dying between the two. Run by every
 * maintenance run, it repairs each such path, those not known too. The wallets are locked first,
 * as a grant's activation locks its wallet before its sessions, and checked again under the lock:
 * a session activated meanwhile is seen. Answers the wallets marked.
 */
export async function awaitDelegationWithoutSession(db: Db, walletId?: string): Promise<string[]> {
  const found = (await db.select({ id: wallets.id }).from(wallets).where(and(activeWithoutSession, walletId ? eq(wallets.id, walletId) : undefined))).map((wallet) => wallet.id)
  if (found.length === 0) return []
  return db.transaction(async (tx) => {
    await lockWallets(tx, found)
    return markAwaitingDelegation(tx, found)
  })
}
