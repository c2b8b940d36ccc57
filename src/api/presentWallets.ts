import type { z } from 'zod'
import { GRANT_FAILURE_WINDOW_MS, grantRetryAt } from '../core/sessions/grantRetryDelay.js'
import { recentSessionFailuresOf } from '../store/repositories/recentSessionFailures.js'
import type { WalletRow } from '../store/schema/index.js'
import type { ApiDeps } from './ApiDeps.js'
import { presentWallet } from './present.js'
import type { Wallet } from './schemas/resources.js'

/**
 * Wallets as the API shows them, with what needs a read beside the row: whether this process holds
 * a signer for each, and until when its automatic session grants wait after repeated failures
 * (the same rule session maintenance follows: `grantRetryAt` over the last hour's `failed_at`).
 */
export async function presentWallets(deps: ApiDeps, rows: readonly WalletRow[]): Promise<z.output<typeof Wallet>[]> {
  const now = deps.runtime.now()
  const failures = await recentSessionFailuresOf(deps.runtime.db, rows.map((row) => row.id), new Date(now - GRANT_FAILURE_WINDOW_MS))
  return rows.map((row) => {
    const recent = failures.get(row.id)
    const retryAt = recent ? grantRetryAt(recent.failures, recent.latest?.getTime()) : 0
    return presentWallet(row, deps.walletSigners.signerFor(row) !== undefined, retryAt > now ? new Date(retryAt) : null)
  })
}

/** One wallet (`presentWallets`). */
export async function presentOneWallet(deps: ApiDeps, row: WalletRow): Promise<z.output<typeof Wallet>> {
  return (await presentWallets(deps, [row]))[0]!
}
