import { eq, sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { executeNamed } from '../../src/store/executeNamed.js'
import { intents, orders, outbox } from '../../src/store/schema/index.js'
import { tableRows } from '../../src/store/tableRows.js'
import { drivers, hex, insertWallet } from './fixtures.js'

describe.each(drivers)('tableRows on $name', ({ create }) => {
  it('reads a hand-written statement\'s rows exactly as drizzle\'s select answers them (numerics, timestamps, bigints, jsonb, nulls)', async () => {
    const test = await create()
    try {
      const db = test.database.db
      const wallet = await insertWallet(db)
      const [intent] = await db.insert(intents).values({
        walletId: wallet.id, kind: 'limit', clientRef: 'ref-1', market: 'ETH-USD', side: 1, price: '2000.5', size: '0.125', timeInForce: 2, goodTill: new Date('2030-01-02T03:04:05.678Z'),
      }).returning()
      const [order] = await db.insert(orders).values({
        walletId: wallet.id, intentId: intent!.id, clientOrderId: hex(16), market: 'ETH-USD', side: 1, price: '2000.5', size: '0.125', timeInForce: 2, filledNotional: '250062500000000000000000000000000000',
      }).returning()
      await db.insert(outbox).values({ walletId: wallet.id, kind: 'Order', orderId: order!.id, payload: { reason: 'test', n: 1 } })

      for (const [table, id, name] of [[intents, intent!.id, 'deputy_test_rows_intents'], [orders, order!.id, 'deputy_test_rows_orders']] as const) {
        const rows = tableRows(table)
        const { rows: raw } = await executeNamed<Record<string, unknown>>(db, name, sql`select ${rows.list} from ${table} where id = ${id}`)
        expect(rows.read(raw[0]!)).toEqual((await db.select().from(table).where(eq(table.id, id)))[0])
      }
      // Some columns only: those, mapped the same way.
      const some = tableRows(orders, ['id', 'price', 'filledNotional', 'venueRevision', 'venueOrderId', 'createdAt'])
      const { rows: someRaw } = await executeNamed<Record<string, unknown>>(db, 'deputy_test_rows_some', sql`select ${some.list} from orders where id = ${order!.id}`)
      const full = (await db.select().from(orders).where(eq(orders.id, order!.id)))[0]!
      expect(some.read(someRaw[0]!)).toEqual({ id: full.id, price: full.price, filledNotional: full.filledNotional, venueRevision: full.venueRevision, venueOrderId: null, createdAt: full.createdAt })
      const rows = tableRows(outbox)
      const { rows: raw } = await executeNamed<Record<string, unknown>>(db, 'deputy_test_rows_outbox', sql`select ${rows.list} from outbox where order_id = ${order!.id}`)
      expect(rows.read(raw[0]!)).toEqual((await db.select().from(outbox).where(eq(outbox.orderId, order!.id)))[0])
    } finally {
      await test.drop()
    }
  })
})
