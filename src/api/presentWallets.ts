import type { z } from 'zod'
import { grantBackoffs } from '../store/repositories/grantBackoffs.js'
import type { WalletRow } from '../store/schema/index.js'
import type { ApiDeps } from './ApiDeps.js'
import { presentWallet } from './present.js'
import type { Wallet } from './schemas/resources.js'

/**
 * Wallets as the API shows them, with what needs a read beside the row: whether this process holds
 * a signer for each, and until when its automatic session grants wait after repeated failures
 * (`grantBackoffs`, as session maintenance reads them).
 */
export async function presentWallets(deps: ApiDeps, rows: readonly WalletRow[]): Promise<z.output<typeof Wallet>[]> {
  const now = deps.runtime.now()
  const backoffs = await grantBackoffs(deps.runtime.db, rows.map((row) => row.id), now)
  return rows.map((row) => {
    const retryAt = backoffs.get(row.id)?.retryAt ?? 0
    return presentWallet(row, deps.walletSigners.signerFor(row) !== undefined, retryAt > now ? new Date(retryAt) : null)
  })
}

/** One wallet (`presentWallets`). */
export async function presentOneWallet(deps: ApiDeps, row: WalletRow): Promise<z.output<typeof Wallet>> {
  return (await presentWallets(deps, [row]))[0]!
}
