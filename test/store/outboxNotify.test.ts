/**
 * The outbox notification (migrations 0006, 0031) that wakes the relay: sent when a statement
 * inserted outbox rows, not for an INSERT that inserted none. The worker runs one of those on every
 * batch of receipts it records (queueLateCancels, nearly always inserting nothing); each woke the
 * relay for nothing. Whether a notification was sent is told without waiting: a marker notified
 * after the statement's commit arrives after anything that commit notified.
 */
import { sql } from 'drizzle-orm'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database, Db } from '../../src/store/Database.js'
import { OUTBOX_CHANNEL } from '../../src/store/repositories/outboxRepo.js'
import { queueLateCancels } from '../../src/store/repositories/queueLateCancels.js'
import { outbox } from '../../src/store/schema/index.js'
import { drivers, insertOrder, insertWallet } from './fixtures.js'

/** Listens on the outbox channel; `untilMarker` answers the payloads received before a marker notified now. */
async function listen(database: Database) {
  const received: string[] = []
  let stop: () => Promise<void>
  if (database.kind === 'pglite') {
    const unlisten = await database.client.listen(OUTBOX_CHANNEL, (payload) => received.push(payload))
    stop = () => unlisten()
  } else {
    const client = new pg.Client({ connectionString: database.pool.options.connectionString })
    await client.connect()
    client.on('notification', (message) => received.push(message.payload ?? ''))
    await client.query(`listen ${OUTBOX_CHANNEL}`)
    stop = () => client.end()
  }
  let markers = 0
  return {
    async untilMarker(db: Db): Promise<string[]> {
      const marker = `marker ${++markers}`
      await db.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, ${marker})`)
      for (let waited = 0; !received.includes(marker); waited++) {
        if (waited > 1000) throw new Error(`no ${marker} after 10 s: ${JSON.stringify(received)}`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      return received.splice(0, received.indexOf(marker) + 1).slice(0, -1)
    },
    stop: () => stop(),
  }
}

describe.each(drivers)('the outbox notification on $name', ({ create }) => {
  let testDb: Awaited<ReturnType<typeof create>>
  let db: Db

  beforeAll(async () => {
    testDb = await create()
    db = testDb.database.db
  })
  afterAll(async () => { await testDb?.drop() })

  it('is sent when outbox rows are inserted, and not for an insert of none', async () => {
    const listener = await listen(testDb.database)
    try {
      const wallet = await insertWallet(db)
      const order = await insertOrder(db, wallet.id)
      expect(await listener.untilMarker(db)).toEqual([])

      // No halt, no CancelAll: the late-cancel insert inserts nothing, and notifies nothing.
      await queueLateCancels(db, [order.id])
      expect(await db.select().from(outbox)).toEqual([])
      expect(await listener.untilMarker(db)).toEqual([])

      await db.insert(outbox).values({ walletId: wallet.id, kind: 'Order', orderId: order.id, payload: {} })
      expect(await listener.untilMarker(db)).toEqual([''])

      // Its wallet halted, the order gets its late cancel, and the relay hears of it.
      await db.execute(sql`update wallets set status = 'halted', halted_reason = 'test' where id = ${wallet.id}`)
      await queueLateCancels(db, [order.id])
      expect((await db.select().from(outbox)).map((row) => row.kind).sort()).toEqual(['CancelOrder', 'Order'])
      expect(await listener.untilMarker(db)).toEqual([''])
    } finally {
      await listener.stop()
    }
  })
})
