/** What start-up waits out (a failed connection) and what it does not (a refused statement), on errors from a real Postgres. */
import { sql } from 'drizzle-orm'
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { isConnectionFailure } from '../../src/store/isConnectionFailure.js'
import { isStatementCancelled } from '../../src/store/isStatementCancelled.js'
import { MigrationError } from '../../src/store/errors.js'
import { openDatabase } from '../../src/store/openDatabase.js'
import type { Database } from '../../src/store/Database.js'
import { type TestDatabase, createTestDatabase } from '../support/database.js'

let test: TestDatabase
let database: Database
beforeAll(async () => {
  test = await createTestDatabase({ migrate: false })
  database = await openDatabase({ url: test.url, max: 2, queryTimeoutMs: 300 })
})
afterAll(async () => {
  await database?.close()
  await test?.drop()
})

const failure = (run: () => Promise<unknown>): Promise<unknown> => run().then(() => { throw new Error('expected a failure') }, (error: unknown) => error)

it('counts a session Postgres ended (57P01), reported through drizzle and a MigrationError', async () => {
  const victim = new pg.Client({ connectionString: test.url })
  victim.on('error', () => {})
  await victim.connect()
  const admin = new pg.Client({ connectionString: test.url })
  await admin.connect()
  try {
    const pid = (await victim.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid
    const ended = failure(() => victim.query('select pg_sleep(10)'))
    await expect.poll(async () => (await admin.query(`select 1 from pg_stat_activity where pid = $1 and state = 'active'`, [pid])).rowCount).toBe(1)
    await admin.query('select pg_terminate_backend($1)', [pid])
    const error = await ended
    expect(error).toMatchObject({ code: '57P01' })
    expect(isConnectionFailure(error)).toBe(true)
    expect(isConnectionFailure(new MigrationError('pg', error))).toBe(true)
  } finally {
    await admin.end()
    await victim.end().catch(() => undefined)
  }
})

it('counts a refused connection', async () => {
  const url = new URL(test.url)
  url.port = '1'
  const client = new pg.Client({ connectionString: url.toString() })
  const error = await failure(() => client.connect())
  expect(isConnectionFailure(error)).toBe(true)
})

it("counts the pool's wait for a connection that timed out (every connection busy past the limit)", async () => {
  if (database.kind !== 'pg') throw new Error('expected node-postgres')
  const held = [await database.pool.connect(), await database.pool.connect()]
  try {
    const waited = await failure(() => database.db.execute(sql`select 1`))
    expect(waited).toMatchObject({ cause: { message: 'timeout exceeded when trying to connect' } })
    expect(isConnectionFailure(waited)).toBe(true)
  } finally {
    for (const client of held) client.release()
  }
})

it('does not count a statement Postgres refused or cancelled, however wrapped', async () => {
  const missing = await failure(() => database.db.execute(sql`select * from nowhere`))
  expect(missing).toMatchObject({ cause: { code: '42P01' } })
  expect(isConnectionFailure(missing)).toBe(false)
  expect(isConnectionFailure(new MigrationError('pg', missing))).toBe(false)
  const cancelled = await failure(() => database.db.execute(sql`select pg_sleep(2)`))
  expect(cancelled).toMatchObject({ cause: { code: '57014' } })
  expect(isConnectionFailure(cancelled)).toBe(false)
  // A cancelled statement is told apart on its own (the API answers it 503, as a connection failure).
  expect(isStatementCancelled(cancelled)).toBe(true)
  expect(isStatementCancelled(missing)).toBe(false)
  expect(isConnectionFailure(new Error('boom'))).toBe(false)
  expect(isConnectionFailure('Connection terminated')).toBe(false)
})
