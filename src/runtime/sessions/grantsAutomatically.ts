import { eq } from 'drizzle-orm'
import { wallets } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'

/**
 * Whether session maintenance grants the wallet's sessions itself (a wallet signer is configured for
 * it: custody, or a local key), so work can wait for a session instead of failing; otherwise its
 * sessions come through the API only.
 */
export async function grantsAutomatically(deps: WorkerDeps, walletId: string): Promise<boolean> {
  if (!deps.walletSignerFor) return false
  const [wallet] = await deps.db.select({ address: wallets.address, custodyWalletId: wallets.custodyWalletId }).from(wallets).where(eq(wallets.id, walletId))
  return wallet !== undefined && deps.walletSignerFor(wallet) !== undefined
}
