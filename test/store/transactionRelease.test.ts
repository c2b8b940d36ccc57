/**
 * A transaction's connection can be cut at any of its statements (a restart, a
 * failover, a proxy's idle timeout). Whichever it is, the transaction fails and
 * its pooled client goes back to the pool, which drops it as dead: a worker must
 * not lose one pool slot per cut until every statement waits for a free client.
 * drizzle 0.45's node-postgres driver sent BEGIN outside the try that releases
 * the client (drizzle-team/drizzle-orm#6241); `patches/` fixes it.
 */
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { drizzleTransactionPatched } from '../../src/store/drizzleTransactionPatched.js'
import { openDatabase } from '../../src/store/openDatabase.js'
import { type FaultyStore, openFaultyStore } from '../support/faultyStore.js'

let store: FaultyStore

beforeAll(async () => { store = await openFaultyStore() })
afterAll(async () => { await store?.close() })

it.each([
  ['begin', false],
  ['insert into "marks"', false],
  ['commit', false],
  ['rollback', true],
])('cut at %s (work throws: %s): the transaction fails, writes nothing, and the pool gets its client back', async (statement, workThrows) => {
  const cutsBefore = store.proxy.faults
  store.proxy.cutAt(statement)
  const transaction = store.db.transaction(async (tx) => {
    await tx.execute(sql`insert into "marks" (n) values (1)`)
    if (workThrows) throw new Error('work failed')
  })
  // The caller hears the work's own error, or else the statement that was cut.
  await expect(transaction).rejects.toThrow(workThrows ? 'work failed' : `Failed query: ${statement}`)
  expect(store.proxy.faults).toBe(cutsBefore + 1)
  // Released and dropped as dead, not held checked out.
  expect({ total: store.pool.totalCount, idle: store.pool.idleCount }).toEqual({ total: 0, idle: 0 })
  // The one slot serves the next transaction, which sees nothing of the failed one.
  const count = await store.db.transaction(async (tx) => (await tx.execute<{ n: number }>(sql`select count(*)::int as n from "marks"`)).rows[0]!.n)
  expect(count).toBe(0)
})

it('keeps a healthy client when the work throws and the rollback succeeds', async () => {
  await expect(store.db.transaction(async (tx) => {
    await tx.execute(sql`insert into "marks" (n) values (2)`)
    throw new Error('work failed')
  })).rejects.toThrow('work failed')
  expect({ total: store.pool.totalCount, idle: store.pool.idleCount }).toEqual({ total: 1, idle: 1 })
  const { rows } = await store.db.execute<{ n: number }>(sql`select count(*)::int as n from "marks"`)
  expect(rows[0]!.n).toBe(0)
})

it('runs on the patched driver, which start-up checks (an install without its postinstall step would warn)', async () => {
  expect(drizzleTransactionPatched()).toBe(true)
  const warnings: string[] = []
  const other = await openDatabase({ url: store.proxy.url, max: 1, warn: (message) => warnings.push(message) })
  await other.close()
  expect(warnings).toEqual([])
})
