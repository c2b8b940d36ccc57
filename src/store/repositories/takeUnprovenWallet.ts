import { and, asc, eq, inArray, notInArray, sql } from 'drizzle-orm'
import { terminalOrderStates } from '../../core/orders/orderState.js'
import type { Db } from '../Database.js'
import { type WalletRow, intents, orders, outbox, schedules, sessions, wallets, unfinishedOutboxStatuses } from '../schema/index.js'
import { audit } from './audit.js'

/** Carried by the orders it ends (`cancel_reason`) and by the work it closes (`last_error`). */
export const WALLET_TAKEN_OVER = 'walletTakenOver'

/**
 * Gives `tenantId`, which has just proven ownership of the address (`custodyWalletId`), a wallet row
 * of its own in place of one another tenant registered by address alone (no custody wallet id, so
 * no proof of ownership) and never had a session for: without a session nothing of that tenant's
 * ever reached the operator (requests are signed by session keys, and a session needs the wallet's
 * own signature), so the owner's proof wins, and nobody can lock an owner out by naming its address
 * first and placing one order. In one transaction, under the other row's lock (which every grant,
 * hold and API write of the wallet takes too, so none slips in between), taken as the other writers
 * take theirs, so none waits on this while this waits on it (a deadlock, which fails one of them):
 * the wallet's schedules first (a resume, a run's claim and its legs lock the schedule, then the
 * wallet), then the wallet `FOR NO KEY UPDATE` as `lockWallet` does (`FOR UPDATE` would also stop
 * the foreign-key checks of work inserted by a writer holding an order, e.g. `requestCancel`),
 * then orders before intents (the order's writers lock the order, then its intent):
 * - that row is retired (`retired_at`): it keeps its tenant, its halt, policy and audit trail, none of
 *   which the new row shares; the API answers it as unknown (`ownedWallet`, `lockTenantWallet`), and
 *   its address is free for the new row (the address is unique among rows not retired);
 * - its unsent work is ended locally, so the relay, the sweeper and the scheduler never send it:
 *   orders and intents not ended are cancelled (`cancel_reason` walletTakenOver), queued, enqueued
 *   or held outbox rows are settled `done` (a job already in the queue finds it settled), and its
 *   schedules are deleted (a run in flight writes nothing; the caller removes their job schedulers
 *   once this commits, `resyncAfterCommit`: Redis is not written inside a Postgres transaction);
 * - an audit entry on each row (neither names the other tenant).
 * Answers the new row and the ids of the schedules deleted, or undefined when the other row has (or had) a session, has a custody wallet
 * id, or was retired meanwhile (the caller refuses the registration).
 */
export async function takeUnprovenWallet(db: Db, walletId: string, tenantId: string, custodyWalletId: string): Promise<{ wallet: WalletRow; deletedSchedules: string[] } | undefined> {
  return db.transaction(async (tx) => {
    await tx.select({ id: schedules.id }).from(schedules).where(eq(schedules.walletId, walletId)).orderBy(asc(schedules.id)).for('update')
    const [current] = await tx.select().from(wallets).where(eq(wallets.id, walletId)).for('no key update')
    if (!current || current.tenantId === tenantId || current.custodyWalletId !== null || current.retiredAt !== null) return undefined
    if ((await tx.select({ id: sessions.id }).from(sessions).where(eq(sessions.walletId, walletId)).limit(1)).length) return undefined

    await tx.update(wallets).set({ retiredAt: sql`now()` }).where(eq(wallets.id, walletId))
    const endedOrders = await tx.update(orders).set({ state: 'cancelled', cancelReason: WALLET_TAKEN_OVER })
      .where(and(eq(orders.walletId, walletId), notInArray(orders.state, [...terminalOrderStates]))).returning({ id: orders.id })
    const endedIntents = await tx.update(intents).set({ status: 'cancelled' })
      .where(and(eq(intents.walletId, walletId), inArray(intents.status, ['active', 'cancel_requested']))).returning({ id: intents.id })
    const endedWork = await tx.update(outbox).set({ status: 'done', lastError: `${WALLET_TAKEN_OVER}: the address's owner registered it for another tenant; never sent` })
      .where(and(eq(outbox.walletId, walletId), inArray(outbox.status, [...unfinishedOutboxStatuses]))).returning({ id: outbox.id })
    const deletedSchedules = await tx.update(schedules).set({ status: 'deleted', deletedAt: sql`now()`, version: sql`${schedules.version} + 1` })
      .where(and(eq(schedules.walletId, walletId), inArray(schedules.status, ['active', 'paused']))).returning({ id: schedules.id })
    await audit(tx, {
      walletId, actor: 'api', action: 'wallet.retired',
      details: {
        reason: "the address's owner proved ownership for another tenant; this registration had no proof and never had a session",
        endedOrders: endedOrders.map((o) => o.id), endedIntents: endedIntents.length, endedWork: endedWork.map((w) => w.id), deletedSchedules: deletedSchedules.map((s) => s.id),
      },
    })

    const [row] = await tx.insert(wallets).values({ address: current.address, tenantId, custodyWalletId }).returning()
    await audit(tx, { walletId: row!.id, actor: 'api', action: 'wallet.takenOver', details: { toTenant: tenantId, reason: 'ownership proven; an earlier registration of the address by another tenant, without proof and never with a session, was retired' } })
    return { wallet: row!, deletedSchedules: deletedSchedules.map((s) => s.id) }
  })
}
