import { sql } from 'drizzle-orm'
import { openDatabase } from '../../src/store/openDatabase.js'
import { createTestDatabase } from './database.js'
import { pgFaultProxy } from './pgFaultProxy.js'

/**
 * A fresh database with one table, `marks (n int)`, reached through a
 * `pgFaultProxy` by a pool of one connection (a client the pool never got back
 * would leave it none): for tests of what a faulted connection leaves behind.
 */
export async function openFaultyStore(options: { queryTimeoutMs?: number } = {}) {
  const test = await createTestDatabase({ migrate: false })
  const proxy = await pgFaultProxy(test.url)
  const database = await openDatabase({ url: proxy.url, max: 1, queryTimeoutMs: options.queryTimeoutMs })
  if (database.kind !== 'pg') throw new Error('expected node-postgres')
  await database.db.execute(sql`create table marks (n int not null)`)
  return {
    proxy, database, db: database.db, pool: database.pool,
    async close(): Promise<void> {
      await database.close()
      await proxy.close()
      await test.drop()
    },
  }
}
export type FaultyStore = Awaited<ReturnType<typeof openFaultyStore>>
