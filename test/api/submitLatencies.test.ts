/**
 * The submit latency histogram's reads: each accepted Order once, whatever the scrape rhythm,
 * including requests answered after a scrape saw them unanswered, and rows a transaction that
 * signed earlier committed after a scrape (the overlap).
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { submitLatencies } from '../../src/api/metrics/submitLatencies.js'
import type { Db } from '../../src/store/Database.js'
import { intents, requests } from '../../src/store/schema/index.js'
import { createTestDatabase, type TestDatabase } from '../support/database.js'
import { insertOrder, insertSession, insertWallet } from '../store/fixtures.js'
import { replaceSessionOrder } from '../../src/runtime/sessions/replaceSessionOrder.js'

let testDb: TestDatabase
let db: Db
/** Two wallets, so the per-wallet reads are merged in order across wallets. */
const wallets: { walletId: string; sessionId: string }[] = []
let nonce = 1n
const startedAt = new Date(Date.now() - 60_000)

beforeAll(async () => {
  testDb = await createTestDatabase()
  db = testDb.database.db
  for (let i = 0; i < 2; i++) {
    const walletId = (await insertWallet(db)).id
    wallets.push({ walletId, sessionId: (await insertSession(db, walletId)).id })
  }
})
afterAll(async () => { await testDb?.drop() })

/** An intent created `intentAt`, its order, and the order's request created `createdAt`, answered as `answer` `latencyMs` after the intent. */
async function request(createdAt: Date, answer?: { status: 'accepted' | 'rejected'; latencyMs: number }, wallet = 0): Promise<string> {
  const { walletId, sessionId } = wallets[wallet]!
  const intentAt = new Date(createdAt.getTime() - 5)
  const [intent] = await db.insert(intents).values({ walletId, kind: 'limit', market: 'ETH-USD', side: 0, price: '2000', size: '0.1', timeInForce: 0, createdAt: intentAt }).returning({ id: intents.id })
  const order = await insertOrder(db, walletId, { intentId: intent!.id, createdAt: intentAt })
  const [row] = await db.insert(requests).values({
    walletId, sessionId, orderId: order.id, family: 'Order', nonce: nonce++, deadline: 0, body: '{}', createdAt,
    ...(answer ? { status: answer.status, completedAt: new Date(intentAt.getTime() + answer.latencyMs), ...(answer.status === 'rejected' ? { errorCode: 'InsufficientBalance' } : {}) } : {}),
  }).returning({ id: requests.id })
  return row!.id
}

it('observes each accepted Order signed since the start once: late answers, late commits and many pages included', async () => {
  const seen: number[] = []
  const read = submitLatencies(db, startedAt, (seconds) => seen.push(seconds), 3)
  const now = Date.now()
  await request(new Date(startedAt.getTime() - 1_000), { status: 'accepted', latencyMs: 100 }) // signed before the start
  await request(new Date(now - 20_000), { status: 'accepted', latencyMs: 250 })
  await request(new Date(now - 19_000), { status: 'rejected', latencyMs: 300 }) // refused: no latency
  const slow = await request(new Date(now - 18_000)) // not answered yet
  for (let i = 0; i < 5; i++) await request(new Date(now - 17_000 + i), { status: 'accepted', latencyMs: 10 + i }, i % 2)
  await read()
  expect(seen.sort((a, b) => a - b)).toEqual([0.01, 0.011, 0.012, 0.013, 0.014, 0.25])

  // Read again: nothing new.
  await read()
  expect(seen).toHaveLength(6)

  // The slow request is answered; a transaction that signed 10 s before the newest commits only now.
  await db.update(requests).set({ status: 'accepted', completedAt: new Date(now - 18_000 + 2_000) }).where(eq(requests.id, slow))
  await request(new Date(now - 27_000), { status: 'accepted', latencyMs: 40 })
  await read()
  expect(seen.slice(6).map((s) => Math.round(s * 1000)).sort((a, b) => a - b)).toEqual([40, 2005])
  await read()
  expect(seen).toHaveLength(8)
})

it('observes an order placed again after its session ended from when it was placed again, not from its intent days before', async () => {
  // A resting order placed two hours ago, accepted then, cancelled by its session's end (a rotation).
  const { walletId, sessionId } = wallets[0]!
  const placedAt = new Date(Date.now() - 2 * 3600_000)
  const [intent] = await db.insert(intents).values({ walletId, kind: 'limit', market: 'ETH-USD', side: 0, price: '2000', size: '0.1', timeInForce: 0, createdAt: placedAt }).returning({ id: intents.id })
  const first = await insertOrder(db, walletId, { intentId: intent!.id, size: '0.1', state: 'cancelled', cancelReason: 'sessionRevoked', createdAt: placedAt })
  await db.insert(requests).values({
    walletId, sessionId, orderId: first.id, family: 'Order', nonce: nonce++, deadline: 0, body: '{}', createdAt: placedAt,
    status: 'accepted', completedAt: new Date(placedAt.getTime() + 30),
  })
  const seen: number[] = []
  const read = submitLatencies(db, new Date(Date.now() - 1_000), (seconds) => seen.push(seconds))
  // The session's end places the remainder again under the current session, for the same intent.
  const replacement = await db.transaction((tx) => replaceSessionOrder(tx, first))
  expect(replacement?.intentId).toBe(intent!.id)
  const replacedAt = replacement!.createdAt
  await db.insert(requests).values({
    walletId, sessionId, orderId: replacement!.id, family: 'Order', nonce: nonce++, deadline: 0, body: '{}', createdAt: new Date(replacedAt.getTime() + 10),
    status: 'accepted', completedAt: new Date(replacedAt.getTime() + 80),
  })
  await read()
  // 80 ms from its placement again to its receipt, not the two hours since the user placed the first.
  // Postgres keeps microseconds and a Date milliseconds: the receipt's time, written as the Date plus
  // 80 ms, is up to 1 ms less than 80 ms after the stored creation.
  expect(seen).toHaveLength(1)
  expect(seen[0]! * 1000).toBeGreaterThan(79)
  expect(seen[0]! * 1000).toBeLessThanOrEqual(80)
})
