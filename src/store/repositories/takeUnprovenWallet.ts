import { eq, sql } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { type WalletRow, wallets } from '../schema/index.js'
import { tableRows } from '../tableRows.js'
import { audit } from './audit.js'

const walletRows = tableRows(wallets)

/**
 * Moves a wallet another tenant registered by address alone (no custody wallet id, so no proof of
 * ownership) to `tenantId`, which has just proven ownership, as long as nothing was ever done with
 * it: no session, intent, order or schedule (queued work would otherwise trade for the new tenant).
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
      returning ${walletRows.list}`)
    const raw = rows[0] as Record<string, unknown> | undefined
    if (!raw) return undefined
    await audit(tx, { walletId, actor: 'api', action: 'wallet.takenOver', details: { fromTenant: current.tenantId, toTenant: tenantId, reason: 'ownership proven; the earlier registration had no proof and was never used' } })
    return walletRows.read(raw)
  })
}
