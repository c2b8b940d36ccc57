import { UnknownResourceError } from '../../core/errors/UnknownResourceError.js'
import type { Db } from '../../store/Database.js'
import { type LockedWallet, lockWallet } from '../../store/repositories/lockWallet.js'

/**
 * With `tenantId` (the API's caller), locks the wallet row in the write's transaction (`lockWallet`)
 * and refuses another tenant's wallet as an unknown one (`UnknownResourceError`, which the API
 * answers as its own 404 for the wallet, or for `named`: the resource the request named, a
 * session), and a retired one the same way, to the tenant it was retired from too; without it (the
 * worker, the CLI), does nothing. The API looks the wallet up by tenant first, but the wallet may be
 * retired (`wallets.retired_at`: its address registered anew for the tenant that proved ownership,
 * `takeUnprovenWallet`, which locks the row as this does and so waits for this lock) between that
 * lookup and the write. Answers the row it locked (undefined without `tenantId`): a write that needs
 * the wallet's lock in any case takes it with `lockWallet` only when this took none.
 */
export async function lockTenantWallet(tx: Db, walletId: string, tenantId: string | undefined, named = { resource: 'wallet', field: 'walletId' }): Promise<LockedWallet | undefined> {
  if (tenantId === undefined) return undefined
  const owner = await lockWallet(tx, walletId)
  if (owner?.tenantId !== tenantId || owner.retiredAt !== null) throw new UnknownResourceError(named.resource, named.field)
  return owner
}
