import { isNull } from 'drizzle-orm'
import { getAddress } from 'viem'
import { ValidationError } from '../core/errors/ValidationError.js'
import type { Db } from '../store/Database.js'
import { type WalletRow, wallets } from '../store/schema/index.js'

/** Registers a wallet (idempotent by address: answers the address's row not retired, if any). */
export async function ensureWallet(db: Db, address: string, tenantId?: string): Promise<WalletRow> {
  let checksummed: string
  try {
    checksummed = getAddress(address)
  } catch {
    throw new ValidationError('address', 'must be a 20-byte hex address')
  }
  const [row] = await db.insert(wallets).values({ address: checksummed, tenantId: tenantId ?? null })
    .onConflictDoUpdate({ target: wallets.address, targetWhere: isNull(wallets.retiredAt), set: { address: checksummed } }).returning()
  return row!
}
