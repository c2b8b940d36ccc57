import { createHash, randomBytes } from 'node:crypto'
import { readFile, readdir, rename, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import type { Database } from '../../src/store/Database.js'
import { defaultMigrationsFolder, migrate } from '../../src/store/migrate.js'
import { MEMORY_DATA_DIR, fromPglite, openDatabase } from '../../src/store/openDatabase.js'

/** The server tests create their databases on; its own database only hosts the admin connection. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export type TestDatabase = {
  url: string
  database: Database
  /** Closes `database`, ends every other session on it, and drops it. */
  drop(): Promise<void>
}

export type CreateTestDatabaseOptions = {
  /** Apply the migrations before returning (default true). */
  migrate?: boolean
  /** Pool size, default 5. */
  max?: number
}

/**
 * A fresh, uniquely named Postgres database for one test file, so files run in
 * parallel without seeing each other's rows. Call `drop()` in `afterAll`.
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const name = `deputy_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  await withAdmin((admin) => admin.query(`create database "${name}"`))
  const url = databaseUrl(name)
  const database = await openDatabase({ url, max: options.max ?? 5 })
  try {
    if (options.migrate ?? true) await migrate(database)
  } catch (error) {
    await database.close()
    await dropDatabase(name)
    throw error
  }
  return {
    url,
    database,
    async drop() {
      const stuck = setTimeout(() => console.warn(`testDb.drop: pool still closing after 10 s: ${describePool(database)}`), 10_000)
      try {
        await database.close()
      } finally {
        clearTimeout(stuck)
      }
      await dropDatabase(name)
    },
  }
}

/**
 * An in-memory PGlite store, migrated unless told otherwise. `drop()` closes it.
 * Booting PGlite and migrating takes seconds, so migrated stores start from a
 * snapshot (a data-dir tarball) cached in the temp directory, keyed by the
 * PGlite version and the migration files; a stale snapshot is never reused.
 */
export async function createMemoryDatabase(options: { migrate?: boolean } = {}): Promise<{ database: Database; drop(): Promise<void> }> {
  const database = options.migrate ?? true
    ? fromPglite(await PGlite.create({ loadDataDir: await migratedSnapshot() }))
    : await openDatabase({ dataDir: MEMORY_DATA_DIR })
  return { database, drop: () => database.close() }
}

let snapshot: Promise<Blob> | undefined

function migratedSnapshot(): Promise<Blob> {
  snapshot ??= loadOrBuildSnapshot()
  return snapshot
}

async function loadOrBuildSnapshot(): Promise<Blob> {
  const file = join(tmpdir(), `deputy-pglite-${await snapshotKey()}.tar`)
  const cached = await readFile(file).catch(() => undefined)
  if (cached) return new Blob([cached])
  const database = await openDatabase({ dataDir: MEMORY_DATA_DIR })
  try {
    await migrate(database)
    if (database.kind !== 'pglite') throw new Error('expected PGlite')
    const dump = await database.client.dumpDataDir('none')
    // Write then rename, so parallel test files never read a half-written file.
    const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
    await writeFile(partial, new Uint8Array(await dump.arrayBuffer()))
    await rename(partial, file)
    return dump
  } finally {
    await database.close()
  }
}

async function snapshotKey(): Promise<string> {
  const hash = createHash('sha256')
  // The package does not export its package.json; read it beside the entry.
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'))
  hash.update(await readFile(join(dirname(entry), '..', 'package.json')))
  const folder = defaultMigrationsFolder()
  const files = (await readdir(folder, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()
  for (const path of files) hash.update(path.slice(folder.length)).update(await readFile(path))
  return hash.digest('hex').slice(0, 16)
}

/** How many sessions wait for an advisory lock in `client`'s database (a migrator queued behind another's lock). */
export async function advisoryLockWaiters(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ waiting: number }>(
    `select count(*)::int as waiting from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`,
  )
  return rows[0]!.waiting
}

/** What a pool that will not end is waiting for: its clients, and what each is running or has queued. */
function describePool(database: Database): string {
  if (database.kind !== 'pg') return database.kind
  type Inside = { _clients: Array<{ processID?: number; _ending?: boolean; _connected?: boolean; _queryable?: boolean; activeQuery?: { text?: string; name?: string } | null; queryQueue: unknown[]; release?: unknown }>; _idle: Array<{ client: unknown }> }
  const pool = database.pool as unknown as Inside
  const idle = new Set(pool._idle.map((item) => item.client))
  const clients = pool._clients.map((c) => ({
    pid: c.processID, idle: idle.has(c), ending: c._ending, connected: c._connected, queryable: c._queryable,
    active: c.activeQuery ? (c.activeQuery.name ?? c.activeQuery.text?.slice(0, 80)) : null, queued: c.queryQueue.length,
  }))
  return JSON.stringify({ total: database.pool.totalCount, idle: database.pool.idleCount, waiting: database.pool.waitingCount, clients })
}

function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL)
  url.pathname = `/${name}`
  return url.toString()
}

async function dropDatabase(name: string): Promise<void> {
  // `with (force)` terminates sessions still connected (a pool a test forgot
  // to close, a worker under test) instead of failing the drop.
  await withAdmin((admin) => admin.query(`drop database if exists "${name}" with (force)`))
}

async function withAdmin<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await admin.connect()
  try {
    return await work(admin)
  } finally {
    await admin.end()
  }
}
