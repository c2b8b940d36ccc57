/**
 * A worker stopped (SIGTERM) while Postgres hangs (a paused server: it takes connections and never
 * answers, not even their close) stops by itself, its stop forced: the jobs get SHUTDOWN_TIMEOUT_MS,
 * the connections no longer than it takes to drop them, and the exit code (1, after 'shutdown
 * forced') says that work was left behind. The outbox relay's LISTEN connection waited for the
 * hanging server to answer its close, the pool for its connects (DATABASE_QUERY_TIMEOUT_MS and 1 s),
 * and neither was bounded: the stop ran into the process's deadline ('shutdown did not finish in
 * time'), and `close()` in a process of its own never returned. What it left is safe: the next
 * worker sends the work, once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { freezingRelay } from '../support/freezingRelay.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'
import { spawnWorkerProcess } from './support/workerProcess.js'

let h: Harness
let postgres: Awaited<ReturnType<typeof freezingRelay>>
beforeAll(async () => {
  h = await createHarness()
  postgres = await freezingRelay(h.databaseUrl)
})
afterAll(async () => {
  await h?.close()
  await postgres?.close()
})

it('stopped while Postgres takes its connections and never answers, the worker stops by itself with exit code 1, and the next worker sends what it left, once', async () => {
  const db = rows(h.db)
  const { wallet } = await h.wallet()
  const markets = await h.markets()
  const child = await spawnWorkerProcess(h, { DATABASE_URL: postgres.url, SHUTDOWN_TIMEOUT_MS: '2000', DATABASE_QUERY_TIMEOUT_MS: '30000' })
  // Its connections fail, and the ones it opens again are taken and never answered: it waits for Postgres mid-connect.
  postgres.freeze()
  const before = postgres.accepted
  postgres.cut()
  await eventually(async () => postgres.accepted > before, 30_000)
  // Written past the hanging relay: the stopping worker cannot send it.
  const { order } = await placeLimitOrder(h.db, markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date())

  expect(await child.stop(), child.errors.join('\n')).toBe(1)
  const messages = child.errors.map((line) => (JSON.parse(line) as { msg?: string }).msg)
  expect(messages).toContain('shutdown forced; exiting')
  expect(messages).not.toContain('shutdown did not finish in time; exiting')

  postgres.thaw()
  const next = await h.startWorker()
  await next.relay()
  await eventually(async () => (await db.order(order.id)).state === 'open', 20_000)
  expect((await db.answeredRequestsOf(order.id)).map((r) => `${r.family}:${r.status}`)).toEqual(['Order:accepted'])
}, 120_000)
