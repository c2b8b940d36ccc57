/**
 * Every test file checks that no query went through the outer connection pool while a transaction
 * of the same async flow was open: on embedded PGlite (one connection) that query would wait for
 * the transaction forever, and on Postgres it runs outside the transaction, not atomically with it.
 * (The CancelAll claim once read the session through the session cache's own connection.) Drizzle's
 * node-postgres transactions are wrapped to mark their callback's async context; the pool's
 * `query` and `connect` record a use from inside one.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { NodePgSession } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import { afterAll, expect } from 'vitest'

const insideTransaction = new AsyncLocalStorage<true>()
const violations: string[] = []

type Patched = { __transactionGuard?: true }
const session = NodePgSession.prototype as unknown as { transaction: (...args: unknown[]) => unknown } & Patched
if (!session.__transactionGuard) {
  session.__transactionGuard = true
  const transaction = session.transaction
  const guarded = function (this: unknown, run: (tx: unknown) => unknown, ...rest: unknown[]) {
    return transaction.call(this, (tx: unknown) => insideTransaction.run(true, () => run(tx)), ...rest)
  }
  // drizzleTransactionPatched() reads the source of the patched method.
  guarded.toString = () => transaction.toString()
  session.transaction = guarded as typeof session.transaction
  const pool = pg.Pool.prototype as unknown as Record<'query' | 'connect', (...args: unknown[]) => unknown>
  for (const method of ['query', 'connect'] as const) {
    const original = pool[method]!
    pool[method] = function (this: unknown, ...args: unknown[]) {
      if (insideTransaction.getStore()) {
        const first = args[0] as { text?: string } | string | undefined
        const text = typeof first === 'string' ? first : first?.text ?? ''
        violations.push(`pool.${method} inside a transaction: ${text.slice(0, 160)}\n${new Error().stack?.split('\n').slice(2, 12).join('\n')}`)
      }
      return original.apply(this, args)
    }
  }
}

afterAll(() => {
  expect(violations, 'queries through the outer pool while a transaction was open').toEqual([])
})
