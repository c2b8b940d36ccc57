/**
 * The operator becomes unreachable while every wallet's event stream is live and orders keep
 * arriving: each stream reconnects with its own backoff and fails each time, and each order's job
 * fails each attempt. The worker says so once per failure, not once per wallet, job and attempt
 * (five wallets logged 35 lines in 5 s before; a thousand would log hundreds a second); each
 * attempt's error is on its request. Once the operator answers again, every order is placed once.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { inArray } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { streamCursors } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { capturedLog } from '../support/capturedLog.js'
import { lateRelay } from '../support/lateRelay.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

let h: Harness
let operator: Awaited<ReturnType<typeof lateRelay>>
let worker: RunningWorker
const { log, lines, entries } = capturedLog()

beforeAll(async () => {
  h = await createHarness()
  operator = await lateRelay(h.sandbox.url)
  await operator.open()
  worker = await h.startWorker({ operatorUrl: operator.url, log })
})
afterAll(async () => {
  await h?.close()
  await operator?.close()
})

it('an operator that stops answering is logged once per failure across every stream and job, and every order is placed once it is back', async () => {
  const walletIds: string[] = []
  for (let i = 0; i < 5; i++) {
    const { wallet } = await h.wallet()
    walletIds.push(wallet.id)
    await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date())
  }
  // Every wallet's stream is live: its order's OrderAccepted event was applied.
  await eventually(async () => (await h.db.select().from(streamCursors).where(inArray(streamCursors.walletId, walletIds))).filter((c) => c.lastSeq >= 1).length === 5, 20_000)
  expect(lines).toEqual([])

  await operator.close()
  const placed = await Promise.all(walletIds.map(async (walletId) => (await placeLimitOrder(h.db, worker.markets, { walletId, market: 'ETH-USD', side: 'buy', price: '1901', size: '0.1' }, new Date())).order))
  await sleep(4_000)
  const attempts = entries().filter((line) => line.msg === 'submission attempt failed')
  expect(attempts.length).toBeGreaterThanOrEqual(1)
  expect(new Set(attempts.map((line) => line.err!.message)).size).toBe(attempts.length)
  const streamErrors = entries().filter((line) => line.msg === 'event stream error; reconnecting')
  // Each failure once, whichever wallet met it: the live streams cut, then every reconnect refused.
  const failures = streamErrors.map((line) => line.err!.message)
  expect(failures.length).toBeGreaterThanOrEqual(1)
  expect(failures.length).toBeLessThanOrEqual(2)
  expect(new Set(failures).size).toBe(failures.length)
  for (const line of streamErrors) {
    expect(line.level).toBe(40)
    expect(walletIds).toContain(line.walletId)
  }

  await operator.open()
  const db = rows(h.db)
  for (const order of placed) {
    await eventually(async () => (await db.order(order.id)).state === 'open', 30_000)
    // The stream's OrderAccepted can open it before the resent request's receipt is stored: its
    // request reads `unknown` (the outage's failed send) until then.
    const answered = await eventually(async () => { const requests = await db.answeredRequestsOf(order.id); return requests.every((r) => r.status !== 'unknown') && requests })
    expect(answered.filter((r) => r.status === 'accepted')).toHaveLength(1)
  }
}, 90_000)
