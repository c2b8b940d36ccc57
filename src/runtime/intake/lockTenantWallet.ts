import { eq } from 'drizzle-orm'
import { UnknownResourceError } from '../../core/errors/UnknownResourceError.js'
import type { Db } from '../../store/Database.js'
import { wallets } from '../../store/schema/index.js'

/**
 * With `tenantId` (the API's caller), reads the wallet's tenant under `FOR NO KEY UPDATE` in the
 * write's transaction and refuses another tenant's wallet as an unknown one (`UnknownResourceError`,
 * which the API answers as its own 404 for the wallet, or for `named`: the resource the request
 * named, a session); without it (the worker, the CLI), does nothing. The API looks the wallet up by tenant first, but a wallet may pass to another tenant (a
 * takeover by proof of ownership, `takeUnprovenWallet`, which takes the row `for update` and so
 * waits for this lock) between that lookup and the write.
 */
export async function lockTenantWallet(tx: Db, walletId: string, tenantId: string | undefined, named = { resource: 'wallet', field: 'walletId' }): Promise<void> {
  if (tenantId === undefined) return
  const [owner] = await tx.select({ tenantId: wallets.tenantId }).from(wallets).where(eq(wallets.id, walletId)).for('no key update')
  if (owner?.tenantId !== tenantId) throw new UnknownResourceError(named.resource, named.field)
}
