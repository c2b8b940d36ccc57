import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import type { Db } from '../../src/store/Database.js'
import { namedStatement } from '../../src/store/namedStatement.js'
import { drivers } from './fixtures.js'

describe.each(drivers)('namedStatement on $name', ({ create }) => {
  it('builds its SQL once and runs it with each call\'s own values, in and outside a transaction', async () => {
    let builds = 0
    const echo = namedStatement<{ n: number; ids: string[]; label: string }, { n: number; ids: string[] }>('deputy_test_named_echo', () => {
      builds++
      return sql`select ${sql.placeholder('n')}::int as n, ${sql.placeholder('ids')}::text[] as ids, ${'constant'}::text as label`
    })
    const test = await create()
    try {
      const db: Db = test.database.db
      const answers = []
      for (const n of [1, 2, 3]) answers.push((await echo(db, { n, ids: [`a${n}`, `b${n}`] })).rows)
      answers.push(await db.transaction(async (tx) => (await echo(tx, { n: 4, ids: [] })).rows))
      expect(answers).toEqual([
        [{ n: 1, ids: ['a1', 'b1'], label: 'constant' }],
        [{ n: 2, ids: ['a2', 'b2'], label: 'constant' }],
        [{ n: 3, ids: ['a3', 'b3'], label: 'constant' }],
        [{ n: 4, ids: [], label: 'constant' }],
      ])
      expect(builds).toBe(1)
    } finally {
      await test.drop()
    }
  })

  it('refuses values that do not name exactly its placeholders, naming the statement and the key, and runs nothing', async () => {
    const insert = namedStatement<never, { n: number }>('deputy_test_named_insert', () => sql`insert into named_probe values (${sql.placeholder('n')})`)
    const test = await create()
    try {
      const db: Db = test.database.db
      await db.execute(sql`create table named_probe (n int)`)
      await expect(insert(db, {} as { n: number })).rejects.toThrow('statement deputy_test_named_insert: no value for placeholder n')
      await expect(insert(db, { n: 1, m: 2 } as { n: number })).rejects.toThrow('statement deputy_test_named_insert: no placeholder for value m')
      await expect(insert(db, { m: 2 } as unknown as { n: number })).rejects.toThrow('no value for placeholder n; no placeholder for value m')
      expect((await db.execute(sql`select count(*)::int as n from named_probe`)).rows).toEqual([{ n: 0 }])
      await insert(db, { n: 5 })
      expect((await db.execute(sql`select n from named_probe`)).rows).toEqual([{ n: 5 }])
    } finally {
      await test.drop()
    }
  })
})
