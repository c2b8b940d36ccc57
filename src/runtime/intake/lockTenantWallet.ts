import { UnknownResourceError } from '../../core/errors/UnknownResourceError.js'
import { ValidationError } from '../../core/errors/ValidationError.js'
import type { Db } from '../../store/Database.js'
import { type LockedWallet, lockWallet } from '../../store/repositories/lockWallet.js'

/**
 * Locks the wallet row in the write's transaction (`lockWallet`) and refuses a retired one
 * (`wallets.retired_at`: its address registered anew for the tenant that proved ownership,
 * `takeUnprovenWallet`, which locks the row as this does and so waits for this lock): nothing new
 * starts on a row nobody can see. With `tenantId` (the API's caller), another tenant's wallet and a
 * retired one (to the tenant it was retired from too) are refused as unknown (`UnknownResourceError`,
 * which the API answers as its own 404 for the wallet, or for `named`: the resource the request
 * named, a session). Without it (the worker, the demo, a script), a retired wallet is a
 * `ValidationError` naming `walletId`, and an unknown one is left to the write (answers undefined).
 * The API looks the wallet up by tenant first, but the wallet may be retired between that lookup and
 * the write. Answers the row it locked.
 */
export async function lockTenantWallet(tx: Db, walletId: string, tenantId: string | undefined, named = { resource: 'wallet', field: 'walletId' }): Promise<LockedWallet | undefined> {
  const owner = await lockWallet(tx, walletId)
  if (tenantId !== undefined && (owner?.tenantId !== tenantId || owner.retiredAt !== null)) throw new UnknownResourceError(named.resource, named.field)
  if (owner?.retiredAt) throw new ValidationError('walletId', `must name a wallet not retired: wallet ${walletId} is retired, its address registered anew for its owner's tenant`)
  return owner
}
