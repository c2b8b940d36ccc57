import { and, eq, gt } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { outbox, wallets } from '../schema/index.js'
import { haltCancelAll } from './outboxRepo.js'

/** Whether the wallet's kill switch is on (halted by a person or a compromise): no trading work goes out. */
export async function walletHalted(db: Db, walletId: string): Promise<boolean> {
  const [wallet] = await db.select({ status: wallets.status }).from(wallets).where(eq(wallets.id, walletId))
  return wallet?.status === 'halted'
}

/**
 * Whether work queued as outbox row `work` was stopped by a halt: the wallet is halted, or was
 * halted after the work was queued (a halt's CancelAll with a later seq, whatever became of it),
 * and resumed since. The halt dropped it: a resume does not bring it back.
 */
export async function haltedSinceQueued(db: Db, work: { walletId: string; seq: number }): Promise<boolean> {
  return (await walletHalted(db, work.walletId)) || haltAskedSince(db, work.walletId, { seq: work.seq })
}

/**
 * Whether the wallet was halted after a point (an outbox seq, or a moment on Postgres's clock): a
 * halt's CancelAll queued since, whatever became of it. It marks the halt even after a resume.
 */
export async function haltAskedSince(db: Db, walletId: string, since: { seq: number } | { at: Date }): Promise<boolean> {
  const after = 'seq' in since ? gt(outbox.seq, since.seq) : gt(outbox.createdAt, since.at)
  const [halt] = await db.select({ id: outbox.id }).from(outbox).where(and(eq(outbox.walletId, walletId), haltCancelAll, after)).limit(1)
  return halt !== undefined
}
