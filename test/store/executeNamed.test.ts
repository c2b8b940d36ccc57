import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { TransactionRollbackError, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/store/Database.js'
import { executeNamed } from '../../src/store/executeNamed.js'
import { createTestDatabase, type TestDatabase } from '../support/database.js'
import { drivers } from './fixtures.js'

const echo = (n: number) => sql`select ${n}::int as n, ${`v${n}`}::text as label`

describe.each(drivers)('executeNamed on $name', ({ create }) => {
  it('answers what db.execute answers, call after call with new values, in and outside a transaction', async () => {
    const test = await create()
    try {
      const db: Db = test.database.db
      for (const n of [1, 2, 3]) {
        expect(await executeNamed(db, 'deputy_test_echo', echo(n))).toMatchObject({ rows: (await db.execute(echo(n))).rows })
      }
      const inside = await db.transaction(async (tx) => [
        (await executeNamed<{ n: number }>(tx, 'deputy_test_echo', echo(7))).rows,
        (await executeNamed<{ n: number }>(tx, 'deputy_test_echo', echo(8))).rows,
      ])
      expect(inside).toEqual([[{ n: 7, label: 'v7' }], [{ n: 8, label: 'v8' }]])
    } finally {
      await test.drop()
    }
  })
})

describe('executeNamed on node-postgres', () => {
  let database: TestDatabase | undefined
  beforeAll(async () => { database = await createTestDatabase() })
  afterAll(() => database?.drop())

  it('prepares the statement on the connection under its name, once', async () => {
    const prepared = await database!.database.db.transaction(async (tx) => {
      await executeNamed(tx, 'deputy_test_prepared', echo(1))
      await executeNamed(tx, 'deputy_test_prepared', echo(2))
      return (await tx.execute<{ name: string; statement: string }>(sql`select name, statement from pg_prepared_statements where name = 'deputy_test_prepared'`)).rows
    })
    expect(prepared).toHaveLength(1)
    expect(prepared[0]!.statement).toContain('::int as n')
  })

  it("runs inside the transaction's own connection: its writes roll back with it, and it sees the transaction's writes", async () => {
    const db = database!.database.db
    await db.execute(sql`create table executed_named_probe (n int)`)
    let inside: { n: number }[] = []
    const outcome = await db.transaction(async (tx) => {
      await tx.execute(sql`insert into executed_named_probe values (1)`)
      await executeNamed(tx, 'deputy_test_probe_insert', sql`insert into executed_named_probe values (${2})`)
      inside = (await executeNamed<{ n: number }>(tx, 'deputy_test_probe_read', sql`select n from executed_named_probe where n > ${0} order by n`)).rows
      tx.rollback()
    }).catch((error: unknown) => error)
    expect(outcome).toBeInstanceOf(TransactionRollbackError)
    expect(inside).toEqual([{ n: 1 }, { n: 2 }])
    expect((await executeNamed<{ n: number }>(db, 'deputy_test_probe_read', sql`select n from executed_named_probe where n > ${0} order by n`)).rows).toEqual([])
  })
})

it('gives every named statement in the code its own name (one name, one text: node-postgres refuses a name reused for other text)', async () => {
  const names: string[] = []
  for (const dir of ['src', 'jobs']) {
    for (const file of await readdir(dir, { recursive: true })) {
      if (!file.endsWith('.ts')) continue
      const text = await readFile(join(dir, file), 'utf8')
      const named = /executeNamed(?:<[^>]*>)?\(\w+, '([^']+)'|\.prepare\('([^']+)'\)|namedStatement<[^']*?>\(\s*'([^']+)'|executeNamed(?:<[^>]*>)?\(\w+, \w+ \? '([^']+)' : '([^']+)'/g
      for (const match of text.matchAll(named)) names.push(...match.slice(1).filter((name): name is string => name !== undefined))
    }
  }
  expect(names.length).toBeGreaterThanOrEqual(20)
  // Those compiled once are found too, and both names of a statement named by a condition (a statement of each kind).
  expect(names).toEqual(expect.arrayContaining(['deputy_claim_pending_orders', 'deputy_halt_after', 'deputy_cancel_all_after', 'deputy_cancel_all_after_sent']))
  expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([])
  for (const n of names) expect(n).toMatch(/^deputy_[a-z_]+$/)
})
