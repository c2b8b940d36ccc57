import { and, eq, inArray, sql } from 'drizzle-orm'
import { ValidationError } from '../../core/errors/ValidationError.js'
import type { Db } from '../../store/Database.js'
import { audit } from '../../store/repositories/audit.js'
import { haltCancelAll } from '../../store/repositories/outboxRepo.js'
import { haltStillOnTheWire } from '../../store/repositories/haltStillOnTheWire.js'
import { lockTenantWallet } from './lockTenantWallet.js'
import { lockWalletToHalt } from '../../store/repositories/lockWallet.js'
import { auditLog, intents, orders, outbox, sessions, wallets, unfinishedOutboxStatuses } from '../../store/schema/index.js'
import { type QueuedAs, queuedAlready } from './requestOrderChange.js'
import { endCompromisedSessions } from '../sessions/endCompromisedSessions.js'

/**
 * The per-wallet kill switch: in one transaction the wallet is halted (intake
 * refuses new orders, queued placements are cancelled before they are sent),
 * and a CancelAll for every market is queued. Cancels still go through.
 * A halt already done under `outboxId` (its CancelAll's id: see `QueuedAs`) is answered as it was,
 * and not done again: the wallet may have been resumed since, and a second CancelAll would cancel
 * the orders placed after the resume.
 * `tenantId` (the API's caller): the wallet must be that tenant's, checked in the halt's transaction
 * (`lockTenantWallet`); another tenant's is refused as an unknown wallet.
 */
export async function haltWallet(db: Db, input: { walletId: string; reason: string; actor?: string; tenantId?: string } & QueuedAs): Promise<{ outboxId: string; cancelledLocally: number }> {
  if (!input.reason.trim()) throw new ValidationError('reason', 'must say why the wallet is halted')
  return db.transaction(async (tx) => {
    await lockTenantWallet(tx, input.walletId, input.tenantId)
    // Waits for requests being persisted (`insertSignedRequests`); those after it see the halt.
    await lockWalletToHalt(tx, input.walletId)
    const queued = await queuedAlready(tx, input.outboxId, { kind: 'CancelAll', walletId: input.walletId })
    if (queued) {
      const [halted] = await tx.select({ details: auditLog.details }).from(auditLog)
        .where(and(eq(auditLog.walletId, input.walletId), eq(auditLog.action, 'wallet.halted'), sql`${auditLog.details}->>'outboxId' = ${queued.outboxId}`)).limit(1)
      return { ...queued, cancelledLocally: Number(halted?.details.cancelledLocally ?? 0) }
    }
    // A wallet already halted keeps the reason it was halted for (a compromise's, say, which `status`
    // and the API show); this halt's reason is in its audit entry.
    const [wallet] = await tx.update(wallets)
      .set({ status: 'halted', haltedReason: sql`case when ${wallets.status} = 'halted' and ${wallets.haltedReason} is not null then ${wallets.haltedReason} else ${input.reason} end` })
      .where(eq(wallets.id, input.walletId)).returning()
    if (!wallet) throw new ValidationError('walletId', 'must name a known wallet')
    // Placements not yet sent never will be: cancel them here.
    const unsent = await tx.update(orders).set({ state: 'cancelled', cancelReason: 'halted' })
      .where(and(eq(orders.walletId, wallet.id), eq(orders.state, 'pending'))).returning({ id: orders.id, intentId: orders.intentId })
    if (unsent.length) {
      await tx.update(outbox).set({ status: 'done', lastError: 'wallet halted before submission' })
        .where(and(inArray(outbox.orderId, unsent.map((o) => o.id)), eq(outbox.kind, 'Order'), inArray(outbox.status, [...unfinishedOutboxStatuses])))
      const intentIds = unsent.map((o) => o.intentId).filter((id): id is string => id !== null)
      if (intentIds.length) await tx.update(intents).set({ status: 'cancelled' }).where(inArray(intents.id, intentIds))
    }
    const [row] = await tx.insert(outbox).values({ id: input.outboxId, walletId: wallet.id, kind: 'CancelAll', payload: { market: '', reason: 'killSwitch' } }).returning({ id: outbox.id })
    await audit(tx, { walletId: wallet.id, actor: input.actor ?? 'api', action: 'wallet.halted', details: { reason: input.reason, cancelledLocally: unsent.length, outboxId: row!.id } })
    return { outboxId: row!.id, cancelledLocally: unsent.length }
  })
}

/**
 * Lifts the kill switch; the wallet is active again if it has a valid session. Not while the
 * halt's CancelAll (or a compromise's) is still to reach the operator: it cancels whatever is live
 * when it lands, so sent after the resume it would cancel the orders placed since, and dropped it
 * would leave the orders live at the halt. Nor while a placement sent before the halt is still on
 * the wire, or the cancel a late one got (or a one-by-one CancelAll's) is still to go out: landed
 * after the CancelAll, such an order is taken down by its own cancel, which under a scope without
 * CancelOrder is a CancelAll of its market (`submitCancelOrder`), only while the wallet is halted.
 * A wallet halted for a compromise that did not live to end its sessions has them ended here
 * (`endCompromisedSessions`, listed as `endedSessions` in the `wallet.resumed` entry): it resumes
 * awaiting a new delegation.
 * `tenantId` (the API's caller): the wallet must be that tenant's, as for `haltWallet`.
 */
export async function resumeWallet(db: Db, input: { walletId: string; actor?: string; tenantId?: string }): Promise<{ status: 'active' | 'awaiting_delegation' }> {
  return db.transaction(async (tx) => {
    // The wallet row first: a halt committing meanwhile (it writes the row, then queues its
    // CancelAll) is waited for, and its CancelAll seen by the check below (a fresh snapshot).
    const locked = await lockTenantWallet(tx, input.walletId, input.tenantId)
    const [unsent] = await tx.select({ id: outbox.id, status: outbox.status }).from(outbox)
      .where(and(eq(outbox.walletId, input.walletId), haltCancelAll, inArray(outbox.status, [...unfinishedOutboxStatuses]))).limit(1)
    if (unsent) {
      throw new ValidationError('walletId', `must be a wallet whose kill switch has reached the operator: its CancelAll (work ${unsent.id}) is ${unsent.status === 'held' ? 'held until the wallet has a session (grant one)' : 'still on its way'}; resume once it is done`)
    }
    const onTheWire = await haltStillOnTheWire(tx, input.walletId)
    if (onTheWire?.kind === 'order') {
      throw new ValidationError('walletId', `must be a wallet whose kill switch has reached the operator: order ${onTheWire.id}, sent before the halt, is not answered yet (${onTheWire.status}); resume once it is`)
    }
    if (onTheWire) {
      throw new ValidationError('walletId', `must be a wallet whose kill switch has reached the operator: the cancel of order ${onTheWire.orderId} (work ${onTheWire.id}) is ${onTheWire.status === 'held' ? 'held until the wallet has a session (grant one)' : 'still on its way'}; resume once it is done`)
    }
    // Sessions a compromise halted the wallet for and did not live to end (session maintenance ends
    // them a minute on): ended here, so the resumed wallet never trades under the keys in doubt.
    const compromise = locked?.status === 'halted' ? locked.haltedReason : null
    const ended = compromise?.startsWith('compromise:') ? await endCompromisedSessions(tx, input.walletId, compromise, input.actor ?? 'api') : []
    const [active] = await tx.select({ id: sessions.id }).from(sessions).where(and(eq(sessions.walletId, input.walletId), eq(sessions.status, 'active'))).limit(1)
    const status = active ? 'active' : 'awaiting_delegation'
    const [wallet] = await tx.update(wallets).set({ status, haltedReason: null }).where(and(eq(wallets.id, input.walletId), eq(wallets.status, 'halted'))).returning()
    if (!wallet) throw new ValidationError('walletId', 'must name a halted wallet')
    await audit(tx, { walletId: wallet.id, actor: input.actor ?? 'api', action: 'wallet.resumed', details: { status, ...(ended.length ? { endedSessions: ended } : {}) } })
    return { status }
  })
}
