/**
 * A pooled connection dropped by the server (restart, failover) while a
 * transaction holds it between two statements: node-postgres emits 'error' on
 * that checked-out client, where pg-pool has no listener. The store must report
 * it, fail the transaction, and keep serving from new connections; it must not
 * crash the process.
 */
import { sql } from 'drizzle-orm'
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { openDatabase } from '../../src/store/openDatabase.js'
import type { Database } from '../../src/store/Database.js'
import { createTestDatabase, type TestDatabase } from '../support/database.js'
import { eventually } from '../worker/support/harness.js'

let test: TestDatabase
let database: Database
const reported: Error[] = []

beforeAll(async () => {
  test = await createTestDatabase({ migrate: false })
  database = await openDatabase({ url: test.url, max: 2, onPoolError: (error) => reported.push(error) })
})
afterAll(async () => {
  await database?.close()
  await test?.drop()
})

async function terminate(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: test.url })
  await admin.connect()
  try {
    await admin.query('select pg_terminate_backend($1, 5000)', [pid])
  } finally {
    await admin.end()
  }
}

it('reports a connection dropped between two statements of a transaction, fails that transaction, and serves the next query', async () => {
  const transaction = database.db.transaction(async (tx) => {
    const { rows } = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`)
    await terminate(rows[0]!.pid)
    // The client is checked out and has no query running: the drop arrives as an 'error' event.
    await eventually(async () => reported.length > 0, 5_000)
    await tx.execute(sql`select 1`)
  })
  // It fails at its next statement, on the dropped connection.
  await expect(transaction).rejects.toThrow('Failed query: select 1')
  expect(reported.map((error) => (error as Error & { code?: string }).code)).toContain('57P01')
  const { rows } = await database.db.execute<{ one: number }>(sql`select 1 as one`)
  expect(rows).toEqual([{ one: 1 }])
})
