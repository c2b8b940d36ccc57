import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { sessions, wallets } from '../../store/schema/index.js'

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
  const withoutSession = and(eq(wallets.status, 'active'), walletId ? eq(wallets.id, walletId) : undefined,
    sql`not exists (select 1 from ${sessions} where ${sessions.walletId} = ${wallets.id} and ${sessions.status} = 'active')`)
  const found = (await db.select({ id: wallets.id }).from(wallets).where(withoutSession)).map((wallet) => wallet.id)
  if (found.length === 0) return []
  return db.transaction(async (tx) => {
    await tx.select({ id: wallets.id }).from(wallets).where(inArray(wallets.id, found)).orderBy(wallets.id).for('no key update')
    const marked = await tx.update(wallets).set({ status: 'awaiting_delegation' }).where(and(inArray(wallets.id, found), withoutSession)).returning({ id: wallets.id })
    return marked.map((wallet) => wallet.id)
  })
}
