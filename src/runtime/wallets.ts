import { isNull } from 'drizzle-orm'
import { getAddress } from 'viem'
import { ValidationError } from '../core/errors/ValidationError.js'
import type { Db } from '../store/Database.js'
import { type WalletRow, wallets } from '../store/schema/index.js'

/** Registers a wallet (idempotent by address: answers the address's row not retired, if any). */
export async function ensureWallet(db: Db, address: string, tenantId?: string, custodyWalletId?: string): Promise<WalletRow> {
  let checksummed: string
  try {
    checksummed = getAddress(address)
  } catch {
    throw new ValidationError('address', 'must be a 20-byte hex address')
  }
  // A new row is stored with its custody wallet id (a registration naming one): in a statement of its
  // own after the insert, a failure between left the wallet registered without the signer it named.
  const [row] = await db.insert(wallets).values({ address: checksummed, tenantId: tenantId ?? null, ...(custodyWalletId === undefined ? {} : { custodyWalletId }) })
    .onConflictDoUpdate({ target: wallets.address, targetWhere: isNull(wallets.retiredAt), set: { address: checksummed } }).returning()
  return row!
}
