import { and, eq, ne } from 'drizzle-orm'
import { ValidationError } from '../../core/errors/ValidationError.js'
import type { Db } from '../../store/Database.js'
import { lockWallet } from '../../store/repositories/lockWallet.js'
import { schedules } from '../../store/schema/index.js'

/**
 * Inside a transaction about to make a schedule of `walletId` active: throws unless no other
 * schedule of the wallet is active. A schedule weighs the whole managed portfolio, quote included,
 * so two active ones would each spend the same quote and trade against each other's targets. The
 * wallet row lock (`FOR NO KEY UPDATE`) makes two creates or resumes of one wallet take turns.
 */
export async function assertOnlyActiveSchedule(tx: Db, p: { walletId: string; field: string; exceptId?: string }): Promise<void> {
  if (!(await lockWallet(tx, p.walletId))) throw new ValidationError('walletId', 'must name a known wallet')
  const [other] = await tx.select({ id: schedules.id }).from(schedules)
    .where(and(eq(schedules.walletId, p.walletId), eq(schedules.status, 'active'), ...(p.exceptId ? [ne(schedules.id, p.exceptId)] : [])))
    .limit(1)
  if (other) {
    throw new ValidationError(p.field, `the wallet already has an active schedule (${other.id}): one active schedule per wallet, since each weighs the whole portfolio and two would trade against each other; pause or delete it, or edit its targets`)
  }
}
