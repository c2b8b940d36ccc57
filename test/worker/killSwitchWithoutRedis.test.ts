/**
 * The kill switch reaches the operator while Redis is down. Its CancelAll goes to the outbox and
 * the relay, like all work, but the relay's job cannot be added while Redis does not answer; the
 * worker's kill-switch lane sends it directly after its grace (2 s), through the same recipe as
 * the job. When Redis is back, the job finds the work done: one CancelAll request in all.
 * Redis sits behind a TCP relay that the test closes and opens again.
 */
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { haltWallet } from '../../src/runtime/intake/killSwitch.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { KILL_SWITCH_GRACE_MS } from '../../src/runtime/startKillSwitchLane.js'
import { type OrderRow, outbox, requests } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { capturedLog } from '../support/capturedLog.js'
import { lateRelay } from '../support/lateRelay.js'
import { operatorOrder } from './support/operator.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

let h: Harness
let redis: Awaited<ReturnType<typeof lateRelay>>
let worker: RunningWorker
const { log, entries } = capturedLog('info')

beforeAll(async () => {
  h = await createHarness()
  redis = await lateRelay(REDIS_URL)
  await redis.open()
  worker = await h.startWorker({ redisUrl: redis.url, log })
})
// After a failure with Redis still down, the worker's clients may take their backoff (up to 20 s) to reconnect before they close.
afterAll(async () => {
  await redis?.open()
  await h?.close()
  await redis?.close()
}, 120_000)

it('cancels every open order at the operator while Redis is down, and the job that runs once Redis is back sends nothing more', async () => {
  const w = await h.wallet()
  const placed: OrderRow[] = []
  for (const price of ['1900', '1910']) {
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())
    placed.push(order)
  }
  await worker.relay()
  await eventually(async () => (await Promise.all(placed.map((o) => rows(h.db).order(o.id)))).every((o) => o.state === 'open'))

  await redis.close()
  const halted = Date.now()
  const { outboxId } = await haltWallet(h.db, { walletId: w.wallet.id, reason: 'test: Redis is down' })
  await eventually(async () => placed.every((o) => operatorOrder(h.sandbox, w.signer.address, o.clientOrderId)?.status === 'cancelled'), 15_000)
  expect(Date.now() - halted).toBeGreaterThanOrEqual(KILL_SWITCH_GRACE_MS)
  await eventually(async () => (await Promise.all(placed.map((o) => rows(h.db).order(o.id)))).every((o) => o.state === 'cancelled'))
  const [row] = await h.db.select().from(outbox).where(eq(outbox.id, outboxId))
  expect(row?.status).toBe('done')
  expect(entries().map((entry) => entry.msg)).toContain('kill switch not sent by its job in time (Redis down, or the queue backed up): sending it directly')

  await redis.open()
  // The relay's job, added once Redis answers, runs and finds the row done.
  const job = await eventually(async () => worker.submitQueue.getJob(outboxId), 15_000)
  await eventually(async () => (await job.isCompleted()) || undefined, 15_000)
  const sent = await h.db.select().from(requests).where(and(eq(requests.walletId, w.wallet.id), eq(requests.family, 'CancelAll')))
  expect(sent.map((r) => r.status)).toEqual(['accepted'])
}, 60_000)
