/**
 * A worker or API starting while Postgres cannot be reached yet, or drops the
 * migration's connection (a restart, a failover, a pooler recycling it), must
 * wait it out and then migrate, not exit: a process that exits on a blip stays
 * down without a supervisor. A migration Postgres refuses stops the start at once.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AddressInfo, type Socket, createServer } from 'node:net'
import { sql } from 'drizzle-orm'
import { afterEach, expect, it } from 'vitest'
import { migrateAtStartup } from '../../src/runtime/migrateAtStartup.js'
import type { Database } from '../../src/store/Database.js'
import { openDatabase } from '../../src/store/openDatabase.js'
import { capturedLog } from '../support/capturedLog.js'
import { createTestDatabase } from '../support/database.js'
import { lateRelay } from '../support/lateRelay.js'
import { pgFaultProxy } from '../support/pgFaultProxy.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function freshDatabase() {
  const test = await createTestDatabase({ migrate: false })
  cleanups.push(() => test.drop())
  return test
}

async function open(url: string): Promise<Database> {
  const database = await openDatabase({ url, max: 2, queryTimeoutMs: 30_000 })
  cleanups.push(() => database.close())
  return database
}

const migrated = async (database: Database): Promise<boolean> =>
  (await database.db.execute<{ n: number }>(sql`select count(*)::int as n from information_schema.tables where table_schema = 'public' and table_name = 'orders'`)).rows[0]!.n === 1

it('waits out a migration whose connection was cut, then applies the migrations', async () => {
  const test = await freshDatabase()
  const proxy = await pgFaultProxy(test.url)
  cleanups.push(() => proxy.close())
  const database = await open(proxy.url)
  const { log, entries } = capturedLog()
  proxy.cutAt('pg_advisory_lock')
  await migrateAtStartup(database, log)
  expect(proxy.faults).toBe(1)
  expect(await migrated(database)).toBe(true)
  expect(entries()).toEqual([expect.objectContaining({ msg: expect.stringContaining('retrying'), retryInMs: 250 })])
})

it('waits for a Postgres that is not reachable yet (connection refused), then applies the migrations', async () => {
  const test = await freshDatabase()
  // An address that refuses connections until the relay there opens.
  const late = await lateRelay(test.url)
  cleanups.push(() => late.close())
  const database = await open(late.url)
  const { log, lines, entries } = capturedLog()
  const migrating = migrateAtStartup(database, log)
  await expect.poll(() => lines.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2)
  await late.open()
  await migrating
  expect(await migrated(database)).toBe(true)
  const refused = entries()
  expect(refused.length).toBeGreaterThanOrEqual(2)
  // The doubling delay of retryUntilDone.
  expect(refused.slice(0, 2).map((line) => line.retryInMs)).toEqual([250, 500])
})

it('waits for a Postgres that takes the connection and never answers, each try given up at the connect timeout and logged naming Postgres and the wait', async () => {
  const sockets = new Set<Socket>()
  const silent = createServer((socket) => { sockets.add(socket) })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => {
    // The server never reads its sockets, so it would not see them close: a close waits for them.
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => silent.close(resolve))
  })
  const database = await openDatabase({ url: `postgres://postgres@127.0.0.1:${(silent.address() as AddressInfo).port}/silent`, max: 1, queryTimeoutMs: 300 })
  cleanups.push(() => database.close())
  const { log, entries } = capturedLog()
  const stop = new AbortController()
  const migrating = migrateAtStartup(database, log, { signal: stop.signal })
  await expect.poll(() => entries().length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2)
  stop.abort(new Error('stopped while starting'))
  await expect(migrating).rejects.toThrow('stopped while starting')
  // node-postgres said only 'timeout expired'.
  for (const entry of entries().slice(0, 2)) {
    expect(entry).toMatchObject({ msg: expect.stringContaining('could not reach Postgres'), err: { message: expect.stringContaining('Postgres did not answer a new connection within 1300 ms') } })
  }
})

it('stops at once on a migration Postgres refuses, with no retry', async () => {
  const test = await freshDatabase()
  const database = await open(test.url)
  const folder = await mkdtemp(join(tmpdir(), 'deputy-bad-migration-'))
  cleanups.push(() => rm(folder, { recursive: true, force: true }))
  await mkdir(join(folder, 'meta'))
  await writeFile(join(folder, 'meta', '_journal.json'), JSON.stringify({ version: '7', dialect: 'postgresql', entries: [{ idx: 0, version: '7', when: 1, tag: '0000_bad', breakpoints: true }] }))
  await writeFile(join(folder, '0000_bad.sql'), 'create tabel nonsense (id int);')
  const { log, lines } = capturedLog()
  await expect(migrateAtStartup(database, log, { migrationsFolder: folder })).rejects.toMatchObject({
    code: 'STORE.MIGRATION_FAILED',
    cause: { cause: { code: '42601' } },
  })
  expect(lines).toEqual([])
})
