import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../src/store/migrate.js'
import { openDatabase } from '../../src/store/openDatabase.js'
import { auditLog, orders, wallets } from '../../src/store/schema/index.js'
import { createAlertSink } from '../../src/runtime/createAlertSink.js'
import { capturedLog } from '../support/capturedLog.js'
import { insertOrder, insertWallet } from './fixtures.js'

describe('embedded PGlite', () => {
  let root: string
  beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'deputy-pglite-')) })
  afterAll(() => rm(root, { recursive: true, force: true }))

  // Each PGlite start boots Postgres in WebAssembly: seconds, more on a busy machine.
  it('keeps its data in dataDir across close and reopen', { timeout: 120_000 }, async () => {
    const dataDir = join(root, 'nested', 'pglite')
    const first = await openDatabase({ dataDir })
    expect(first.kind).toBe('pglite')
    await migrate(first)
    const wallet = await insertWallet(first.db)
    const order = await insertOrder(first.db, wallet.id, { price: '2000.123456789012345678' })
    await first.close()
    await first.close()

    const second = await openDatabase({ dataDir })
    try {
      // Already migrated: a restart applies nothing and keeps the rows.
      await migrate(second)
      const [stored] = await second.db.select().from(orders).where(eq(orders.id, order.id))
      expect(stored).toEqual(order)
      expect(await second.db.$count(wallets)).toBe(1)
    } finally {
      await second.close()
    }
  })

  it('runs transactions, rolling back on error', { timeout: 60_000 }, async () => {
    const database = await openDatabase({ dataDir: 'memory://' })
    try {
      await migrate(database)
      const wallet = await insertWallet(database.db)
      await expect(database.db.transaction(async (tx) => {
        await insertOrder(tx, wallet.id)
        throw new Error('abort')
      })).rejects.toThrow('abort')
      expect(await database.db.$count(orders)).toBe(0)
      await database.db.transaction(async (tx) => { await insertOrder(tx, wallet.id) })
      expect(await database.db.$count(orders)).toBe(1)
    } finally {
      await database.close()
    }
  })

  it('claims an alert with what it reports under a savepoint, and goes on when Postgres refuses the claim', { timeout: 60_000 }, async () => {
    const database = await openDatabase({ dataDir: 'memory://' })
    try {
      await migrate(database)
      const wallet = await insertWallet(database.db)
      const sink = createAlertSink({ log: capturedLog().log, db: database.db })
      const actions = async () => (await database.db.select({ action: auditLog.action }).from(auditLog).where(eq(auditLog.walletId, wallet.id))).map((row) => row.action).sort()
      const raised = await database.db.transaction(async (tx) => {
        await insertOrder(tx, wallet.id)
        return sink.claimWithin(tx, { walletId: wallet.id, code: 'ACL_VIOLATION', message: 'Order outside the scope', details: { sessionId: 's-1' } })
      })
      raised()
      // jsonb takes no U+0000: the claim fails under its savepoint, and the transaction still commits.
      const fallback = await database.db.transaction(async (tx) => {
        const then = await sink.claimWithin(tx, { walletId: wallet.id, code: 'KEY_INTEGRITY', message: 'key in doubt', details: { sessionId: 's\u0000' } })
        await insertOrder(tx, wallet.id)
        return then
      })
      fallback()
      await sink.settled()
      expect(await database.db.$count(orders)).toBe(2)
      expect(await actions()).toEqual(['alert.ACL_VIOLATION'])
      await sink.close()
    } finally {
      await database.close()
    }
  })
})
