import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq, getTableName, sql } from 'drizzle-orm'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import type { Database, Db } from '../../src/store/Database.js'
import { MIGRATION_LOCK_KEY, defaultMigrationsFolder, migrate } from '../../src/store/migrate.js'
import { openDatabase } from '../../src/store/openDatabase.js'
import { fills, schema, sessions } from '../../src/store/schema/index.js'
import { hex } from './fixtures.js'
import { type TestDatabase, advisoryLockWaiters, createMemoryDatabase, createTestDatabase } from '../support/database.js'

// Every table the schema declares must exist after migrating, and nothing else.
const tables = Object.values(schema).map((table) => getTableName(table)).sort()
const journal = JSON.parse(readFileSync(join(defaultMigrationsFolder(), 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }

async function publicTables(database: Database): Promise<string[]> {
  const result = await database.db.execute<{ table_name: string }>(
    sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
  )
  return result.rows.map((row) => row.table_name)
}

async function appliedMigrations(database: Database): Promise<number> {
  const result = await database.db.execute<{ count: string | number }>(sql`select count(*) as count from drizzle.__drizzle_migrations`)
  return Number(result.rows[0]!.count)
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function fresh(): Promise<TestDatabase> {
  const test = await createTestDatabase({ migrate: false })
  cleanups.push(() => test.drop())
  return test
}

describe('migrate', () => {
  it('finds the migrations folder from the package root, whatever the cwd', () => {
    expect(defaultMigrationsFolder()).toBe(join(import.meta.dirname, '..', '..', 'migrations'))
    expect(journal.entries.length).toBeGreaterThan(0)
  })

  it('applies every migration on Postgres, and a second run changes nothing', async () => {
    const { database } = await fresh()
    await migrate(database)
    expect(await publicTables(database)).toEqual(tables)
    expect(await appliedMigrations(database)).toBe(journal.entries.length)
    await migrate(database)
    expect(await appliedMigrations(database)).toBe(journal.entries.length)
  })

  it('applies every migration on PGlite, and a second run changes nothing', { timeout: 60_000 }, async () => {
    const { database, drop } = await createMemoryDatabase({ migrate: false })
    cleanups.push(drop)
    await migrate(database)
    expect(await publicTables(database)).toEqual(tables)
    await migrate(database)
    expect(await appliedMigrations(database)).toBe(journal.entries.length)
  })

  it('lets concurrent starters on one database all succeed, applying each migration once', async () => {
    const { url, database } = await fresh()
    const others = await Promise.all([1, 2].map(() => openDatabase({ url, max: 2 })))
    cleanups.push(async () => { await Promise.all(others.map((other) => other.close())) })
    await Promise.all([database, ...others].map((each) => migrate(each)))
    expect(await publicTables(database)).toEqual(tables)
    expect(await appliedMigrations(database)).toBe(journal.entries.length)
  })

  it('waits for the advisory lock, then releases it', async () => {
    const { url, database } = await fresh()
    const holder = new pg.Client({ connectionString: url })
    await holder.connect()
    cleanups.push(() => holder.end())
    await holder.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()])

    let finished = false
    const running = migrate(database).then(() => { finished = true })
    // The migrator's session shows up as a waiter on the lock the holder owns.
    await expect.poll(() => advisoryLockWaiters(holder), { timeout: 20_000 }).toBe(1)
    expect(finished).toBe(false)
    expect(await publicTables(database)).toEqual([])

    await holder.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()])
    await running
    expect(await publicTables(database)).toEqual(tables)
    // This database's: the other test files running beside this one take advisory locks in theirs.
    const held = await holder.query(`select count(*)::int as held from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`)
    expect(held.rows[0].held).toBe(0)
  })

  /** A database deployed before migration `idx`: the migrations up to the one before it applied. */
  async function migratedBefore(idx: number): Promise<Database> {
    const { database } = await fresh()
    const before = mkdtempSync(join(tmpdir(), 'deputy-migrations-'))
    cleanups.push(async () => rmSync(before, { recursive: true, force: true }))
    cpSync(defaultMigrationsFolder(), before, { recursive: true })
    const entries = (journal.entries as { idx: number }[]).filter((entry) => entry.idx < idx)
    writeFileSync(join(before, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }))
    await migrate(database, { migrationsFolder: before })
    return database
  }

  // A wallet row as the schemas before 0025 had it (without retired_at).
  const oldWallet = async (db: Db) => ({ id: String((await db.execute(sql`insert into wallets (address, status) values (${hex(20)}, 'active') returning id`)).rows[0]!.id) })

  it('0017 gives the fills stored without a market their order\'s market and side, and leaves the others', async () => {
    const database = await migratedBefore(17)

    const { db } = database
    const wallet = await oldWallet(db)
    // A row as that schema had it (the current schema has columns added since).
    const cloid = hex(16)
    const inserted = await db.execute(sql`insert into orders (wallet_id, client_order_id, market, side, price, size, time_in_force)
      values (${wallet.id}, ${cloid}, 'BTC-USD', 1, '2000.5', '0.25', 0) returning id`)
    const sell = { id: String(inserted.rows[0]!.id), clientOrderId: cloid }
    const fill = (fillId: string, orderId: string | null, market: string, side: 0 | 1) =>
      ({ walletId: wallet.id, orderId, fillId, clientOrderId: sell.clientOrderId, market, side, price: '1', size: '1', fee: '0', seq: 1, at: new Date() })
    await db.insert(fills).values([fill('stream', sell.id, '', 0), fill('reconciler', sell.id, 'BTC-USD', 1), fill('unlinked', null, '', 0)])
    await migrate(database)

    const stored = Object.fromEntries((await db.select().from(fills).where(eq(fills.walletId, wallet.id))).map((f) => [f.fillId, [f.market, f.side]]))
    expect(stored).toEqual({ stream: ['BTC-USD', 1], reconciler: ['BTC-USD', 1], unlinked: ['', 0] })
  })

  it("0018 gives the sessions granted before it their lifetime back from the grant's time (the Delegation's nonce)", async () => {
    const database = await migratedBefore(18)
    const { db } = database
    // Rows as that schema had them (without lifetime_seconds), each a grant in progress of its own wallet.
    const pending = async (nonce: string, expiryUnix: number) => {
      const wallet = await oldWallet(db)
      await db.execute(sql`insert into sessions (wallet_id, status, public_key, sealed_private_key, master_key_id, acl_scope, expiry, expiry_unix, delegation_nonce, wallet_signer)
        values (${wallet.id}, 'pending', ${`0x02${hex(32).slice(2)}`}, 'sealed', 'k', ${sql`array['Order']`}, ${new Date(expiryUnix * 1000)}, ${expiryUnix}, ${nonce}, 'local')`)
      return wallet.id
    }
    const grantedMs = 1_800_000_000_123
    const day = await pending(String(grantedMs), Math.floor(grantedMs / 1000) + 86_400)
    // A nonce that is not a time (not one of Deputy's grants): nothing to go by.
    const other = await pending('7', 1_900_000_000)
    await migrate(database)
    const lifetimeOf = async (walletId: string) => (await db.select().from(sessions).where(eq(sessions.walletId, walletId)))[0]!.lifetimeSeconds
    expect([await lifetimeOf(day), await lifetimeOf(other)]).toEqual([86_400, null])
  })

  it('0022 clears revoked_at on the unexpired quarantined sessions, which SignerMismatch did not end at the operator', async () => {
    const database = await migratedBefore(22)
    const { db } = database
    const session = async (status: string, expiryUnix: number) => {
      const wallet = await oldWallet(db)
      // As that schema had them (the columns of later migrations are not there yet).
      const inserted = await db.execute(sql`insert into sessions (wallet_id, status, public_key, sealed_private_key, master_key_id, acl_scope, expiry, expiry_unix, delegation_nonce, delegation_hash, delegated_payload, wallet_signer, revoked_at)
        values (${wallet.id}, ${status}, ${`0x02${hex(32).slice(2)}`}, 'sealed', 'k', ${sql`array['Order']`}, ${new Date(expiryUnix * 1000)}, ${expiryUnix}, '1', ${hex(32)}, '0x01', 'local', now()) returning id`)
      return String(inserted.rows[0]!.id)
    }
    const later = Math.floor(Date.now() / 1000) + 86_400
    const live = await session('quarantined', later)
    const past = await session('quarantined', Math.floor(Date.now() / 1000) - 60)
    const revoked = await session('revoked', later)
    await migrate(database)
    const revokedAt = async (id: string) => (await db.select().from(sessions).where(eq(sessions.id, id)))[0]!.revokedAt
    expect([await revokedAt(live), await revokedAt(past) instanceof Date, await revokedAt(revoked) instanceof Date]).toEqual([null, true, true])
  })

  it("0027 flags the reconciler's cancels of orders it found live at the operator, queued before the flag, and no other cancel", async () => {
    const database = await migratedBefore(27)
    const { db } = database
    const wallet = await oldWallet(db)
    const inserted = await db.execute(sql`insert into orders (wallet_id, client_order_id, market, side, price, size, time_in_force, state)
      values (${wallet.id}, ${hex(16)}, 'ETH-USD', 0, '1990', '0.5', 0, 'open') returning id`)
    const orderId = String(inserted.rows[0]!.id)
    const cancel = async (db: Db, reason: string, status: string) => String((await db.execute(sql`insert into outbox (wallet_id, kind, order_id, payload, status)
      values (${wallet.id}, 'CancelOrder', ${orderId}, ${JSON.stringify({ reason })}::jsonb, ${status}) returning id`)).rows[0]!.id)
    // As the reconciler wrote them: the cancel and its audit entry in one transaction.
    const reconcilers = await db.transaction(async (tx) => {
      const id = await cancel(tx, 'user', 'failed')
      await tx.execute(sql`insert into audit_log (wallet_id, actor, action, details)
        values (${wallet.id}, 'reconciler', 'order.liveAtOperator', ${JSON.stringify({ orderId, recorded: 'cancelled' })}::jsonb)`)
      return id
    })
    // The user's own cancel of the order, and the orphan's, are not the reconciler's of an order ended here.
    const users = await cancel(db, 'user', 'pending')
    const orphans = await cancel(db, 'orphan', 'failed')
    await migrate(database)
    const payload = async (id: string) => (await db.execute<{ payload: unknown }>(sql`select payload from outbox where id = ${id}`)).rows[0]!.payload
    expect([await payload(reconcilers), await payload(users), await payload(orphans)])
      .toEqual([{ reason: 'user', liveAtOperator: true }, { reason: 'user' }, { reason: 'orphan' }])
  })

  it('0029 keeps the scope of every session granted before it as chosen: who chose it was not recorded', async () => {
    const database = await migratedBefore(29)
    const { db } = database
    const session = async (scope: string[]) => {
      const wallet = await oldWallet(db)
      const expiryUnix = Math.floor(Date.now() / 1000) + 86_400
      const inserted = await db.execute(sql`insert into sessions (wallet_id, status, public_key, sealed_private_key, master_key_id, acl_scope, expiry, expiry_unix, delegation_nonce, delegation_hash, delegated_payload, wallet_signer)
        values (${wallet.id}, 'active', ${`0x02${hex(32).slice(2)}`}, 'sealed', 'k', ${sql`array[${sql.join(scope.map((a) => sql`${a}`), sql`, `)}]::text[]`}, ${new Date(expiryUnix * 1000)}, ${expiryUnix}, '1', ${hex(32)}, '0x01', 'local') returning id`)
      return String(inserted.rows[0]!.id)
    }
    const widened = await session(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
    const unrestricted = await session(['Unrestricted'])
    await migrate(database)
    const chosen = async (id: string) => (await db.select().from(sessions).where(eq(sessions.id, id)))[0]!.chosenScope
    expect([await chosen(widened), await chosen(unrestricted)]).toEqual([['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'], ['Unrestricted']])
  })

  it('reports a failed migration as STORE.MIGRATION_FAILED and leaves the lock free', async () => {
    const { database } = await fresh()
    await expect(migrate(database, { migrationsFolder: '/nonexistent/migrations' })).rejects.toMatchObject({
      name: 'MigrationError',
      code: 'STORE.MIGRATION_FAILED',
    })
    await migrate(database)
    expect(await publicTables(database)).toEqual(tables)
  })
})
