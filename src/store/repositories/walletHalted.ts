import { eq } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { wallets } from '../schema/index.js'

/** Whether the wallet's kill switch is on (halted by a person or a compromise): no trading work goes out. */
export async function walletHalted(db: Db, walletId: string): Promise<boolean> {
  const [wallet] = await db.select({ status: wallets.status }).from(wallets).where(eq(wallets.id, walletId))
  return wallet?.status === 'halted'
}
