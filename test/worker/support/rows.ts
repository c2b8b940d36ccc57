/** Reads of the worker's tables the tests assert on. */
import { and, asc, eq } from 'drizzle-orm'
import type { Db } from '../../../src/store/Database.js'
import { auditLog, fills, intents, orders, outbox, requests, sessions, wallets } from '../../../src/store/schema/index.js'
import { answeredRequests } from './harness.js'

export function rows(db: Db) {
  const requestsOf = (orderId: string) => db.select().from(requests).where(eq(requests.orderId, orderId)).orderBy(asc(requests.createdAt))
  const requestsOfWallet = (walletId: string) => db.select().from(requests).where(eq(requests.walletId, walletId)).orderBy(asc(requests.createdAt))
  return {
    order: async (id: string) => (await db.select().from(orders).where(eq(orders.id, id)))[0]!,
    ordersOf: (walletId: string) => db.select().from(orders).where(eq(orders.walletId, walletId)).orderBy(asc(orders.createdAt)),
    ordersOfIntent: (intentId: string) => db.select().from(orders).where(eq(orders.intentId, intentId)).orderBy(asc(orders.createdAt)),
    intentsOf: (walletId: string) => db.select().from(intents).where(eq(intents.walletId, walletId)),
    requestsOf,
    requestsOfWallet,
    // The same once none waits for its receipt: the stream's event can change the order before the receipt is stored.
    answeredRequestsOf: (orderId: string) => answeredRequests(() => requestsOf(orderId)),
    answeredRequestsOfWallet: (walletId: string) => answeredRequests(() => requestsOfWallet(walletId)),
    outboxOf: (orderId: string) => db.select().from(outbox).where(eq(outbox.orderId, orderId)).orderBy(asc(outbox.seq)),
    outboxOfWallet: (walletId: string) => db.select().from(outbox).where(eq(outbox.walletId, walletId)).orderBy(asc(outbox.seq)),
    fillsOf: (orderId: string) => db.select().from(fills).where(eq(fills.orderId, orderId)).orderBy(asc(fills.seq)),
    fillsOfWallet: (walletId: string) => db.select().from(fills).where(eq(fills.walletId, walletId)).orderBy(asc(fills.seq)),
    session: async (id: string) => (await db.select().from(sessions).where(eq(sessions.id, id)))[0]!,
    sessionsOf: (walletId: string) => db.select().from(sessions).where(eq(sessions.walletId, walletId)).orderBy(asc(sessions.createdAt)),
    wallet: async (id: string) => (await db.select().from(wallets).where(eq(wallets.id, id)))[0]!,
    audit: (walletId: string, action?: string) => db.select().from(auditLog)
      .where(action ? and(eq(auditLog.walletId, walletId), eq(auditLog.action, action)) : eq(auditLog.walletId, walletId)).orderBy(asc(auditLog.id)),
  }
}
