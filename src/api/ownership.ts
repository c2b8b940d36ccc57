import { and, eq, isNull } from 'drizzle-orm'
import type { Db } from '../store/Database.js'
import { type OrderRow, type OutboxRow, type ScheduleRow, type SessionRow, type WalletRow, orders, outbox, schedules, sessions, wallets } from '../store/schema/index.js'
import { NotFoundError } from './errors.js'

/*
 * Every lookup by id goes through the tenant: another tenant's resource is
 * "not found" exactly like one that does not exist, so ids leak nothing.
 */

/**
 * `field`: the request field that named it (a path's `walletId`, a list's filter). A retired wallet
 * (its address passed to its owner's tenant, `takeUnprovenWallet`) is not found either: its orders and
 * schedules stay readable by their own ids and in the lists, ended.
 */
export async function ownedWallet(db: Db, tenantId: string, walletId: string, field = 'walletId'): Promise<WalletRow> {
  const [row] = await db.select().from(wallets).where(and(eq(wallets.id, walletId), eq(wallets.tenantId, tenantId), isNull(wallets.retiredAt)))
  if (!row) throw new NotFoundError('wallet', field)
  return row
}

/**
 * The wallet a page of the wallet list starts after (`after`): one of this tenant's, retired or not.
 * A retired wallet keeps its place in the order of registration, so a page mark read before its
 * takeover still pages on; another tenant's wallet is not found.
 */
export async function walletPageMark(db: Db, tenantId: string, walletId: string): Promise<WalletRow> {
  const [row] = await db.select().from(wallets).where(and(eq(wallets.id, walletId), eq(wallets.tenantId, tenantId)))
  if (!row) throw new NotFoundError('wallet', 'after')
  return row
}

/** `field`: the request field that named it (a path's `sessionId`, a list's `before`). */
export async function ownedSession(db: Db, tenantId: string, sessionId: string, field = 'sessionId'): Promise<{ session: SessionRow; wallet: WalletRow }> {
  const [row] = await db.select({ session: sessions, wallet: wallets }).from(sessions).innerJoin(wallets, eq(wallets.id, sessions.walletId))
    .where(and(eq(sessions.id, sessionId), eq(wallets.tenantId, tenantId)))
  if (!row) throw new NotFoundError('session', field)
  return row
}

/** `field`: the request field that named it (a path's `orderId`, a list's `before`). */
export async function ownedOrder(db: Db, tenantId: string, orderId: string, field = 'orderId'): Promise<{ order: OrderRow; wallet: WalletRow }> {
  const [row] = await db.select({ order: orders, wallet: wallets }).from(orders).innerJoin(wallets, eq(wallets.id, orders.walletId))
    .where(and(eq(orders.id, orderId), eq(wallets.tenantId, tenantId)))
  if (!row) throw new NotFoundError('order', field)
  return row
}

/** `field`: the request field that named it (a path's `scheduleId`, a list's `after`). */
export async function ownedSchedule(db: Db, tenantId: string, scheduleId: string, field = 'scheduleId'): Promise<{ schedule: ScheduleRow; wallet: WalletRow }> {
  const [row] = await db.select({ schedule: schedules, wallet: wallets }).from(schedules).innerJoin(wallets, eq(wallets.id, schedules.walletId))
    .where(and(eq(schedules.id, scheduleId), eq(wallets.tenantId, tenantId)))
  if (!row) throw new NotFoundError('schedule', field)
  return row
}

export async function ownedWork(db: Db, tenantId: string, outboxId: string): Promise<OutboxRow> {
  const [row] = await db.select({ work: outbox }).from(outbox).innerJoin(wallets, eq(wallets.id, outbox.walletId))
    .where(and(eq(outbox.id, outboxId), eq(wallets.tenantId, tenantId)))
  if (!row) throw new NotFoundError('work', 'outboxId', 'must name work of this tenant; settled work is deleted after RETENTION_DAYS (30 by default)')
  return row.work
}
