import { eq, sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { type WalletRow, wallets } from '../schema/index.js'
import { tableRows } from '../tableRows.js'
import { audit } from './audit.js'

const walletRows = tableRows(wallets)

/**
 * Moves a wallet another tenant registered by address alone (no custody wallet id, so no proof of
 * ownership) to `tenantId`, which has just proven ownership, as long as nothing was ever done with
 * it: no session, intent, order, schedule, queued work (a halt's CancelAll), policy, nor anything the
 * other tenant did through the API in its audit trail (a halt and its reason, a policy's rules): queued
 * work would otherwise trade for the new tenant, and the rest was the other tenant's to read, not its.
 * Without this, any tenant naming an address first would lock its owner's tenant out. Answers the
 * moved row, or undefined when the row is not such a one (the caller refuses the registration).
 */
export async function takeUnprovenWallet(db: Db, walletId: string, tenantId: string): Promise<WalletRow | undefined> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(wallets).where(eq(wallets.id, walletId)).for('update')
    if (!current || current.tenantId === tenantId || current.custodyWalletId !== null) return undefined
    const { rows } = await tx.execute(sql`
      update wallets w set tenant_id = ${tenantId}, updated_at = now()
      where w.id = ${walletId}
        and not exists (select 1 from sessions where wallet_id = w.id)
        and not exists (select 1 from intents where wallet_id = w.id)
        and not exists (select 1 from orders where wallet_id = w.id)
        and not exists (select 1 from schedules where wallet_id = w.id)
        and not exists (select 1 from outbox where wallet_id = w.id)
        and not exists (select 1 from policies where wallet_id = w.id)
        and not exists (select 1 from audit_log where wallet_id = w.id and actor = 'api')
      returning ${walletRows.list}`)
    const raw = rows[0] as Record<string, unknown> | undefined
    if (!raw) return undefined
    await audit(tx, { walletId, actor: 'api', action: 'wallet.takenOver', details: { fromTenant: current.tenantId, toTenant: tenantId, reason: 'ownership proven; the earlier registration had no proof and was never used' } })
    return walletRows.read(raw)
  })
}
