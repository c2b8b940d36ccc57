/**
 * The relay wakes when outbox rows are committed (LISTEN deputy_outbox, fed by
 * migration 0006's trigger) and when held work is released by a new session, not
 * only at its poll, which runs once an hour here; and its listener connection,
 * when killed, reconnects and catches up.
 */
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'
import { bareWallet, grant, openWithSession } from '../lifecycle/support/lifecycle.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ database: h.database, relayIntervalMs: 3_600_000, streams: false })
})
afterAll(async () => { await h?.close() })

const listenerBackends = async () => (await h.db.execute<{ pid: number }>(sql`
  select pid from pg_stat_activity where application_name = 'deputy-listener' and datname = current_database()`)).rows

it('sends an order as soon as its intent is committed, and again after its listener connection was killed', async () => {
  const db = rows(h.db)
  const { wallet } = await h.wallet()
  const place = async (price: string) => (await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())).order
  await eventually(async () => (await listenerBackends()).length === 1)

  const first = await place('1901')
  await eventually(async () => (await db.order(first.id)).state === 'open')

  const [listener] = await listenerBackends()
  await h.db.execute(sql`select pg_terminate_backend(${listener!.pid})`)
  // Committed while no connection listens: the reconnected listener catches up on its own.
  const second = await place('1902')
  await eventually(async () => (await db.order(second.id)).state === 'open')
  const [again] = await eventually(async () => { const now = await listenerBackends(); return now.length === 1 && now })
  expect(again!.pid).not.toBe(listener!.pid)
  const third = await place('1903')
  await eventually(async () => (await db.order(third.id)).state === 'open')
})

it('sends work held for want of a session as soon as a new session is granted', async () => {
  const db = rows(h.db)
  const bare = await bareWallet(h)
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: bare.wallet.id, market: 'ETH-USD', side: 'buy', price: '1904', size: '0.1' }, new Date())
  const [held] = await eventually(async () => { const outbox = await db.outboxOf(order.id); return outbox[0]?.status === 'held' && outbox })
  expect(held!.lastError).toMatch(/no active session/)

  const { session } = await grant(h, bare, { families: ['Order', 'CancelOrder'] })
  const open = await openWithSession(h.db, order.id)
  expect(open.sessionId).toBe(session.id)
})
