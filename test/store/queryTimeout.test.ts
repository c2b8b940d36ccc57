/**
 * `queryTimeoutMs` limits a statement, and a transaction idle between two of
 * its statements, at both ends of the connection:
 * - Postgres cancels a statement that runs or waits for a lock that long, and
 *   the transaction's locks are free at once (the connection is kept); it ends
 *   a transaction whose client went silent (a network partition), freeing its
 *   locks, which it would otherwise hold until TCP gave up;
 * - a Postgres host that goes silent without closing the connection (a
 *   partition, a dead load balancer) must not hold the work until TCP gives up:
 *   a second later the client fails the statement, destroys its connection, and
 *   the next statement gets a new one; nor may one that accepts a new connection
 *   and never answers its handshake.
 * Migrations, which may legitimately wait for another process's lock or build
 * an index for long, are not limited.
 */
import { type AddressInfo, type Socket, createServer } from 'node:net'
import { sql } from 'drizzle-orm'
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { MIGRATION_LOCK_KEY, migrate } from '../../src/store/migrate.js'
import { openDatabase } from '../../src/store/openDatabase.js'
import { advisoryLockWaiters, createTestDatabase } from '../support/database.js'
import { type FaultyStore, openFaultyStore } from '../support/faultyStore.js'

const TIMEOUT_MS = 300
let store: FaultyStore

beforeAll(async () => { store = await openFaultyStore({ queryTimeoutMs: TIMEOUT_MS }) })
afterAll(async () => { await store?.close() })

/** drizzle's error for a failed statement, caused by node-postgres's timeout. */
const timedOut = { cause: { message: 'Query read timeout' } }
/** drizzle's error for a statement Postgres cancelled at `statement_timeout`. */
const cancelledByServer = { cause: { code: '57014' } }

/** A connection of its own to the test database (through the relay, which is armed for one statement at a time). */
async function observer(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: store.proxy.url })
  await client.connect()
  return client
}

const tryLock = async (client: pg.Client, key: number): Promise<boolean> =>
  (await client.query<{ free: boolean }>('select pg_try_advisory_lock($1) as free', [key])).rows[0]!.free

it('fails a statement whose connection went silent, destroys that connection, and serves the next statement', async () => {
  store.proxy.stallAt('select 42')
  await expect(store.db.execute(sql`select 42 as answer`)).rejects.toMatchObject(timedOut)
  expect(store.proxy.faults).toBe(1)
  expect(store.pool.totalCount).toBe(0)
  const { rows } = await store.db.execute<{ one: number }>(sql`select 1 as one`)
  expect(rows).toEqual([{ one: 1 }])
})

it('fails a transaction whose connection went silent mid-way at its first timeout; nothing of it is stored and the pool serves the next one', async () => {
  const faults = store.proxy.faults
  const { issued, stop } = recordStatements(store.pool)
  // A partition: Postgres ends the idle transaction at its own limit, but the client hears nothing of it.
  store.proxy.partitionAt('insert into "marks"')
  await expect(store.db.transaction(async (tx) => {
    await tx.execute(sql`insert into "marks" (n) values (1)`)
  })).rejects.toMatchObject(timedOut)
  expect(store.proxy.faults).toBe(faults + 1)
  // No rollback was queued behind the statement that still occupies the connection: it could only
  // have timed out in turn, doubling the wait. The connection was dropped instead, and Postgres
  // rolled the transaction back when it closed.
  stop()
  expect(issued).toEqual(['begin', 'insert into "marks" (n) values (1)'])
  expect(store.pool.totalCount).toBe(0)
  const count = await store.db.transaction(async (tx) => (await tx.execute<{ n: number }>(sql`select count(*)::int as n from "marks"`)).rows[0]!.n)
  expect(count).toBe(0)
})

it('cancels a statement waiting for a lock at the timeout: Postgres ends the wait, the transaction\'s locks are free at once and the connection is kept', async () => {
  const holder = await observer()
  try {
    await holder.query('select pg_advisory_lock(2)')
    await expect(store.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(1)`)
      await tx.execute(sql`select pg_advisory_xact_lock(2)`)
    })).rejects.toMatchObject(cancelledByServer)
    // The holder still has lock 2, so a backend left waiting for it would still hold lock 1.
    expect(await tryLock(holder, 1)).toBe(true)
    expect(store.pool.totalCount).toBe(1)
  } finally {
    await holder.end()
  }
})

it('ends a transaction whose client went silent mid-way (a partition the server does not see): its locks are freed by Postgres', async () => {
  const watcher = await observer()
  try {
    store.proxy.partitionAt('select 7 as partitioned')
    await expect(store.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(3)`)
      await tx.execute(sql`select 7 as partitioned`)
    })).rejects.toMatchObject(timedOut)
    // The relay keeps the server's end of that connection open: only Postgres's own limit ends it.
    await expect.poll(() => tryLock(watcher, 3), { timeout: 10_000 }).toBe(true)
    const { rows } = await store.db.execute<{ one: number }>(sql`select 1 as one`)
    expect(rows).toEqual([{ one: 1 }])
  } finally {
    await watcher.end()
  }
})

it('fails a statement whose new connection is never answered (a proxy that accepts and stays silent), at the limit plus the grace', async () => {
  const sockets = new Set<Socket>()
  const silent = createServer((socket) => { sockets.add(socket) })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const { port } = silent.address() as AddressInfo
  const limited = await openDatabase({ url: `postgres://postgres@127.0.0.1:${port}/silent`, max: 1, queryTimeoutMs: TIMEOUT_MS })
  try {
    const started = Date.now()
    // Named as such: node-postgres's own words ('Connection terminated unexpectedly') read as a server that closed it.
    await expect(limited.db.execute(sql`select 1`)).rejects.toMatchObject({
      cause: { code: 'STORE.POSTGRES_UNANSWERED', shortMessage: `Postgres did not answer a new connection within ${TIMEOUT_MS + 1_000} ms` },
    })
    // Not TCP's minutes: the pool gives up after the limit and the client's grace (1 s).
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1_000 + 2_000)
  } finally {
    await limited.close()
    // The server never reads its sockets, so it would not see them close: a close waits for them.
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => silent.close(resolve))
  }
})

it('does not limit migrations: one waits for another process\'s lock longer than the timeout, then applies', async () => {
  const fresh = await createTestDatabase({ migrate: false })
  const limited = await openDatabase({ url: fresh.url, max: 1, queryTimeoutMs: TIMEOUT_MS })
  const holder = new pg.Client({ connectionString: fresh.url })
  await holder.connect()
  try {
    await holder.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()])
    let finished = false
    const running = migrate(limited).then(() => { finished = true })
    await expect.poll(() => advisoryLockWaiters(holder), { timeout: 20_000 }).toBe(1)
    // Held past the pool's query timeout.
    await new Promise((resolve) => setTimeout(resolve, 2 * TIMEOUT_MS))
    expect(finished).toBe(false)
    await holder.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()])
    await running
    const { rows } = await limited.db.execute<{ n: number }>(sql`select count(*)::int as n from information_schema.tables where table_schema = 'public'`)
    expect(rows[0]!.n).toBeGreaterThan(0)
  } finally {
    await holder.end()
    await limited.close()
    await fresh.drop()
  }
})

/** The text of every statement the pool's clients issue until `stop` (each client wrapped once, at checkout). */
function recordStatements(pool: pg.Pool): { issued: string[]; stop: () => void } {
  const issued: string[] = []
  const wrapped = new WeakSet<pg.PoolClient>()
  let recording = true
  const onAcquire = (client: pg.PoolClient) => {
    if (wrapped.has(client)) return
    wrapped.add(client)
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    client.query = ((...args: unknown[]) => {
      const first = args[0] as string | { text: string }
      if (recording) issued.push(typeof first === 'string' ? first : first.text)
      return query(...args)
    }) as typeof client.query
  }
  pool.on('acquire', onAcquire)
  return { issued, stop: () => { recording = false; pool.off('acquire', onAcquire) } }
}
