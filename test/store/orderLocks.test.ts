/**
 * The order row lock every writer takes (the event runs, the receipt writes, `mutateOrder`, the
 * reconciler's read-back guard) excludes the other writers, and nothing else: a row that only
 * references the order (a signed request, a fill, an outbox row) is inserted while the lock is
 * held. Its foreign-key check takes `FOR KEY SHARE` on the order, which `FOR UPDATE` would make
 * wait, and which could then close a cycle with a writer that waits on the inserter (the outbox
 * row lock of `signAndPersist` against a receipt write of the same row).
 * Real Postgres only: it needs two connections.
 */
import { randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/store/Database.js'
import { insertSignedRequests } from '../../src/store/repositories/insertSignedRequests.js'
import { lockOrderUnchangedSince } from '../../src/store/repositories/lockOrderUnchangedSince.js'
import { lockOrdersByKey, lockOrdersSkippingHeld } from '../../src/store/repositories/lockOrders.js'
import { mutateOrder } from '../../src/store/repositories/mutateOrder.js'
import { fills, outbox } from '../../src/store/schema/index.js'
import { createTestDatabase } from '../support/database.js'
import { insertOrder, insertSession, insertWallet } from './fixtures.js'

type Order = Awaited<ReturnType<typeof insertOrder>>

/** The SQLSTATE of a failed statement: pg's error itself (raw statements), or the cause drizzle wraps it in. */
const sqlState = (error: unknown): string | undefined => {
  const failed = error as { code?: string; cause?: { code?: string } } | undefined
  return failed?.code ?? failed?.cause?.code
}

/** Each writer's lock on one order, taken inside `tx`. */
const lockers: { name: string; lock: (tx: Db, order: Order) => Promise<unknown> }[] = [
  // lockOrder's lock, which intake's modify/cancel and the schedules' cancel take too.
  { name: 'mutateOrder', lock: (tx, order) => mutateOrder(tx, { id: order.id }, []) },
  { name: 'lockOrdersByKey', lock: (tx, order) => lockOrdersByKey(tx, [{ walletId: order.walletId, clientOrderId: order.clientOrderId }]) },
  { name: 'lockOrdersSkippingHeld', lock: (tx, order) => lockOrdersSkippingHeld(tx, [order.id]) },
  { name: 'lockOrderUnchangedSince', lock: (tx, order) => lockOrderUnchangedSince(tx, { id: order.id }, new Date()) },
]

describe('order row locks', () => {
  let db: Db
  let drop: () => Promise<void>
  beforeAll(async () => {
    const test = await createTestDatabase()
    db = test.database.db
    drop = () => test.drop()
  })
  afterAll(() => drop())

  /** Runs `work` while another transaction holds `locker`'s lock on the order; `work` gives up on a lock after 250 ms. */
  async function whileLocked<T>(locker: (typeof lockers)[number], order: Order, work: (tx: Db) => Promise<T>): Promise<T> {
    let release!: () => void
    let locked!: () => void
    const held = new Promise<void>((resolve) => { locked = resolve })
    const holder = db.transaction(async (tx) => {
      await locker.lock(tx, order)
      locked()
      await new Promise<void>((resolve) => { release = resolve })
    })
    // A lock that fails rejects here rather than leaving the test to its timeout.
    await Promise.race([held, holder])
    try {
      return await db.transaction(async (tx) => {
        await tx.execute(sql`set local lock_timeout = '250ms'`)
        return work(tx)
      })
    } finally {
      release()
      await holder
    }
  }

  describe.each(lockers)('$name', (locker) => {
    it('lets a request, a fill and an outbox row for the order be inserted while it holds the order', async () => {
      const wallet = await insertWallet(db)
      const session = await insertSession(db, wallet.id)
      const order = await insertOrder(db, wallet.id)
      await whileLocked(locker, order, async (tx) => {
        await insertSignedRequests(tx, [{
          walletId: wallet.id, sessionId: session.id, orderId: order.id, outboxId: randomUUID(), family: 'Order', nonce: 1n, deadline: 1, body: '{}',
        }])
        await tx.insert(fills).values({
          walletId: wallet.id, orderId: order.id, fillId: `f-${randomUUID()}`, clientOrderId: order.clientOrderId,
          market: order.market, side: order.side, price: '2000', size: '0.1', fee: '0', seq: 1, at: new Date(),
        })
        await tx.insert(outbox).values({ walletId: wallet.id, kind: 'CancelOrder', orderId: order.id, payload: {} })
      })
      const { rows } = await db.execute<{ n: number }>(sql`
        select (select count(*) from requests where order_id = ${order.id})
             + (select count(*) from fills where order_id = ${order.id})
             + (select count(*) from outbox where order_id = ${order.id}) as n`)
      expect(Number(rows[0]!.n)).toBe(3)
    })

    it('still keeps every other writer of the order waiting', async () => {
      const wallet = await insertWallet(db)
      const order = await insertOrder(db, wallet.id)
      for (const other of lockers) {
        if (other.name === 'lockOrdersSkippingHeld') {
          // The receipt write skips a held order instead of waiting for it.
          await expect(whileLocked(locker, order, (tx) => lockOrdersSkippingHeld(tx, [order.id]))).resolves.toEqual([])
          continue
        }
        const error = await whileLocked(locker, order, (tx) => other.lock(tx, order)).then(() => undefined, (reason: unknown) => reason)
        expect(sqlState(error), `${other.name} while ${locker.name} holds the order`).toBe('55P03')
      }
    })
  })
})
