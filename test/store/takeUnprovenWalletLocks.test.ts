/**
 * A takeover (`takeUnprovenWallet`) ends the retired row's schedules and orders while the other
 * tenant may still be working on them. It must take their locks in the order the other writers take
 * them, or the two wait on each other and Postgres ends one with a deadlock (the owner's proven
 * registration, or the other tenant's request, answered API.INTERNAL):
 * - a schedule's writers (`setScheduleStatus` resuming it, `claimRun`, `writeLegs`) lock the
 *   schedule, then the wallet;
 * - an order's writers (`requestCancel`, the Order claim) lock the order, then its intent, and
 *   insert work referencing the wallet (whose foreign-key check takes `FOR KEY SHARE` on it).
 * Real Postgres only: it needs several connections.
 */
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { lockOrder } from '../../src/store/repositories/lockOrder.js'
import { lockWallet } from '../../src/store/repositories/lockWallet.js'
import { takeUnprovenWallet } from '../../src/store/repositories/takeUnprovenWallet.js'
import type { Db } from '../../src/store/Database.js'
import { intents, orders, outbox, schedules, wallets } from '../../src/store/schema/index.js'
import { lockSchedule } from '../../src/runtime/schedules/lockSchedule.js'
import { createTestDatabase, type TestDatabase } from '../support/database.js'
import { lockWaiters } from '../support/lockWaiters.js'
import { hex, insertOrder } from './fixtures.js'
import pg from 'pg'

let test: TestDatabase
let db: Db
let watcher: pg.Client
beforeAll(async () => {
  test = await createTestDatabase()
  db = test.database.db
  watcher = new pg.Client({ connectionString: test.url })
  await watcher.connect()
})
afterAll(async () => {
  await watcher?.end()
  await test?.drop()
})

async function squatted() {
  const [wallet] = await db.insert(wallets).values({ address: hex(20), tenantId: 'tenant-b' }).returning()
  return wallet!
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await condition()); i++) await new Promise((resolve) => setTimeout(resolve, 10))
}

/**
 * Runs `first` in a transaction of the other tenant's, starts the takeover once it holds its lock,
 * and once the takeover waits on a lock, runs `then` in the same transaction. Answers both outcomes.
 */
async function interleaved(walletId: string, first: (tx: Db) => Promise<unknown>, then: (tx: Db) => Promise<unknown>) {
  let locked!: () => void
  let proceed!: () => void
  const held = new Promise<void>((resolve) => { locked = resolve })
  const go = new Promise<void>((resolve) => { proceed = resolve })
  const other = db.transaction(async (tx) => {
    await first(tx)
    locked()
    await go
    await then(tx)
  })
  other.catch(() => undefined)
  await Promise.race([held, other])
  // Started outside the other transaction's flow (a request of its own), once that one holds its lock.
  const takeover = takeUnprovenWallet(db, walletId, 'tenant-a', 'custody-a')
  takeover.catch(() => undefined)
  await until(async () => (await lockWaiters(watcher)) > 0)
  proceed()
  const [otherOutcome, takeoverOutcome] = await Promise.allSettled([other, takeover])
  const why = (outcome: PromiseSettledResult<unknown>) => outcome.status === 'rejected' ? String((outcome.reason as { cause?: unknown }).cause ?? outcome.reason) : 'ok'
  return { other: why(otherOutcome!), takeover: why(takeoverOutcome!) }
}

it("waits for a resume of the other tenant's schedule (schedule, then wallet) instead of deadlocking with it", async () => {
  const wallet = await squatted()
  const [schedule] = await db.insert(schedules).values({
    walletId: wallet.id, targets: { ETH: '0.5', USD: '0.5' }, cron: '0 * * * *', timeZone: 'UTC', toleranceBand: '0.02',
    minTradeNotional: '10', limitOffsetBps: 10, status: 'paused',
  }).returning()
  // setScheduleStatus's resume: lockSchedule, then assertOnlyActiveSchedule's lockWallet.
  const outcome = await interleaved(wallet.id, (tx) => lockSchedule(tx, schedule!.id), (tx) => lockWallet(tx, wallet.id))
  expect(outcome).toEqual({ other: 'ok', takeover: 'ok' })
  expect((await db.select().from(schedules).where(eq(schedules.id, schedule!.id)))[0]?.status).toBe('deleted')
})

it("waits for a cancel of the other tenant's order (order, then intent) instead of deadlocking with it", async () => {
  const wallet = await squatted()
  const [intent] = await db.insert(intents).values({ walletId: wallet.id, kind: 'limit', market: 'ETH-USD', side: 0, price: '2000', size: '0.1', timeInForce: 0 }).returning()
  const order = await insertOrder(db, wallet.id, { intentId: intent!.id })
  // requestCancel: lockKnownOrder, then the intent marked cancel_requested and its CancelOrder queued.
  const outcome = await interleaved(wallet.id, (tx) => lockOrder(tx, { id: order.id }), async (tx) => {
    await tx.update(intents).set({ status: 'cancel_requested' }).where(eq(intents.id, intent!.id))
    await tx.insert(outbox).values({ walletId: wallet.id, kind: 'CancelOrder', orderId: order.id, payload: { reason: 'user' } })
  })
  expect(outcome).toEqual({ other: 'ok', takeover: 'ok' })
  expect((await db.select({ state: orders.state }).from(orders).where(eq(orders.id, order.id)))[0]?.state).toBe('cancelled')
  expect((await db.select({ status: intents.status }).from(intents).where(eq(intents.id, intent!.id)))[0]?.status).toBe('cancelled')
  expect((await db.select({ status: outbox.status }).from(outbox).where(eq(outbox.walletId, wallet.id))).map((row) => row.status)).toEqual(['done'])
  expect((await db.execute(sql`select count(*)::int as n from wallets where address = ${wallet.address} and retired_at is null`)).rows).toEqual([{ n: 1 }])
})
