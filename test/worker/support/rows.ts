/** Reads of the worker's tables the tests assert on. */
import { and, asc, eq } from 'drizzle-orm'
import type { Db } from '../../../src/store/Database.js'
import { answeredRequests } from './harness.js'
import { auditLog, fills, orders, outbox, requests, sessions, wallets } from '../../../src/store/schema/index.js'

export function rows(db: Db) {
  const requestsOf = (orderId: string) => db.select().from(requests).where(eq(requests.orderId, orderId)).orderBy(asc(requests.createdAt))
  const requestsOfWallet = (walletId: string) => db.select().from(requests).where(eq(requests.walletId, walletId)).orderBy(asc(requests.createdAt))
  return {
    order: async (id: string) => (await db.select().from(orders).where(eq(orders.id, id)))[0]!,
    ordersOf: (walletId: string) => db.select().from(orders).where(eq(orders.walletId, walletId)),
    requestsOf,
    requestsOfWallet,
    /** The order's requests once none waits for its receipt: the stream's event can change the order before the receipt is stored. */
    answeredRequestsOf: (orderId: string) => answeredRequests(() => requestsOf(orderId)),
    outboxOf: (orderId: string) => db.select().from(outbox).where(eq(outbox.orderId, orderId)).orderBy(asc(outbox.seq)),
    outboxOfWallet: (walletId: string) => db.select().from(outbox).where(eq(outbox.walletId, walletId)).orderBy(asc(outbox.seq)),
    fillsOf: (orderId: string) => db.select().from(fills).where(eq(fills.orderId, orderId)),
    fillsOfWallet: (walletId: string) => db.select().from(fills).where(eq(fills.walletId, walletId)),
    session: async (id: string) => (await db.select().from(sessions).where(eq(sessions.id, id)))[0]!,
    wallet: async (id: string) => (await db.select().from(wallets).where(eq(wallets.id, id)))[0]!,
    audit: (walletId: string, action?: string) => db.select().from(auditLog)
      .where(action ? and(eq(auditLog.walletId, walletId), eq(auditLog.action, action)) : eq(auditLog.walletId, walletId)).orderBy(asc(auditLog.id)),
  }
}
