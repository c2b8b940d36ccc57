import { Placeholder, type SQL, is } from 'drizzle-orm'
import type { Db, QueryRows } from './Database.js'
import { type CompiledStatement, compileStatement, runNamed } from './executeNamed.js'

/** Runs a `namedStatement` with its values, one for each of its placeholders. */
export type NamedStatement<Row, Values extends Record<string, unknown>> = (db: Db, values: Values) => Promise<QueryRows<Row>>

/**
 * A hot statement (`executeNamed`) whose SQL is built and compiled once, on its
 * first run: what changes from call to call is a `sql.placeholder(name)`,
 * given at each run (`values`, one key per placeholder, no other). drizzle's
 * building and compiling of a statement's fragments cost 17–27 µs of CPU per
 * call (micro-benchmark of the claim and the receipt statements). At 100
 * orders/s, where each order runs the hot statements on its own, drizzle was
 * 7.9% of the worker's on-CPU samples before they were built once, 4.4% after.
 *
 * `build` takes no argument and is declared beside the statement, at module
 * level, so nothing of one call can be compiled into the text every later
 * call runs: any other value it embeds (a status, a column list) is a constant.
 * A run whose values do not name exactly the placeholders is refused (a rejected
 * promise) before anything is sent.
 */
export function namedStatement<Row, Values extends Record<string, unknown>>(name: string, build: () => SQL): NamedStatement<Row, Values> {
  let compiled: { statement: CompiledStatement; placeholders: ReadonlySet<string> } | undefined
  return (db, values) => {
    if (!compiled) {
      const statement = compileStatement(build())
      compiled = { statement, placeholders: new Set(statement.params.filter((p): p is Placeholder => is(p, Placeholder)).map((p) => p.name)) }
    }
    const { statement, placeholders } = compiled
    const given = Object.keys(values)
    // The common case checked without building anything; the lists only for the refusal's message.
    if (given.length !== placeholders.size || !given.every((key) => placeholders.has(key))) {
      const missing = [...placeholders].filter((key) => !Object.hasOwn(values, key))
      const extra = given.filter((key) => !placeholders.has(key))
      const problems = [...missing.map((key) => `no value for placeholder ${key}`), ...extra.map((key) => `no placeholder for value ${key}`)]
      return Promise.reject(new Error(`statement ${name}: ${problems.join('; ')}`))
    }
    return runNamed<Row>(db, name, statement, values)
  }
}
