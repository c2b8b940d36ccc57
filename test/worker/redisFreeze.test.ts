/**
 * A Redis that hangs rather than goes down: it keeps the worker's connections (and takes new ones)
 * but answers nothing, so no error and no close ever reaches the worker. Two kinds:
 *
 * - stopped and resumed (SIGSTOP, SIGCONT of a redis-server of this test's own, never the shared
 *   one): what was sent meanwhile is answered on resume, so every connection comes back by itself;
 * - replaced (a stopped host failed over, a proxy in front of a dead server; here a relay that cuts
 *   the worker's connections, then takes new ones and never answers them): the connections opened
 *   while it hung are never answered, even once Redis answers new ones again. Only a timeout of the
 *   worker's own ends them: REDIS_SOCKET_TIMEOUT_MS (ioredis's socketTimeout, on every connection:
 *   a socket that brings nothing within it while a command waits is closed and opened again).
 *
 * In both the worker reports not ready while Redis does not answer, and ready and taking work
 * within a bound once it does. The bounds are generous: behaviour, not timing.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { createWorkerHealth } from '../../src/runtime/health/workerHealth.js'
import type { RunningWorker } from '../../src/worker.js'
import { capturedLog } from '../support/capturedLog.js'
import { lateRelay } from '../support/lateRelay.js'
import { privateRedis } from '../support/privateRedis.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

/** The settings of a deployment's defaults (REDIS_COMMAND_TIMEOUT_MS, REDIS_SOCKET_TIMEOUT_MS). */
const redisTimeouts = { redisCommandTimeoutMs: 10_000, redisSocketTimeoutMs: 20_000 }

let h: Harness
let stoppable: Awaited<ReturnType<typeof privateRedis>>
let relay: Awaited<ReturnType<typeof lateRelay>>
beforeAll(async () => {
  h = await createHarness()
  stoppable = await privateRedis()
  relay = await lateRelay(REDIS_URL)
  await relay.open()
})
afterAll(async () => {
  stoppable?.resume()
  await relay?.open()
  await h?.close()
  await stoppable?.stop()
  await relay?.close()
}, 90_000)

/** Places an order for a fresh wallet; `opened` resolves with how long it took to open at the operator (rejects after `timeoutMs`). */
async function placed(worker: RunningWorker, timeoutMs = 30_000): Promise<{ opened: Promise<number> }> {
  const { wallet } = await h.wallet()
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date())
  const startedAt = Date.now()
  const db = rows(h.db)
  const opened = eventually(async () => (await db.order(order.id)).state === 'open', timeoutMs, 100).then(() => Date.now() - startedAt)
  opened.catch(() => undefined)
  return { opened }
}

/**
 * Runs `test` with a worker of its own, closed after it whether it passed or not: the tests share
 * one database, and a worker left running (on another Redis) would relay and send the next test's orders.
 */
async function withWorker(redisUrl: string, test: (worker: RunningWorker) => Promise<void>): Promise<void> {
  const worker = await h.startWorker({ redisUrl, ...redisTimeouts, streams: false })
  try {
    await test(worker)
  } finally {
    await worker.close(2_000)
  }
}

/** The worker's readiness as /readyz answers it (its Postgres and Redis checks). */
function readiness(worker: RunningWorker) {
  const health = createWorkerHealth(capturedLog('silent').log)
  health.started({ db: h.db, redis: worker.redisProbes })
  return async () => (await health.ready()).statusCode
}

it('a worker whose Redis is stopped for 10 s reports not ready meanwhile, and is ready and takes work within seconds of its resume', () => withWorker(stoppable.url, async (worker) => {
  const ready = readiness(worker)
  expect(await ready()).toBe(200)
  expect(await (await placed(worker)).opened).toBeLessThan(10_000)

  stoppable.freeze()
  const during = await placed(worker)
  await eventually(async () => (await ready()) === 503, 8_000, 200)
  await sleep(8_000)
  stoppable.resume()
  const resumedAt = Date.now()
  await eventually(async () => (await ready()) === 200, 15_000, 200)
  const readyAfterMs = Date.now() - resumedAt
  // The order placed while Redis was stopped goes out on resume; one placed after it at once.
  await during.opened
  const openedAfterMs = Date.now() - resumedAt
  const after = await (await placed(worker)).opened
  console.info(`stopped 10 s: ready ${readyAfterMs} ms after the resume, the held order open after ${openedAfterMs} ms, a new one in ${after} ms`)
  expect(openedAfterMs).toBeLessThan(15_000)
  expect(after).toBeLessThan(10_000)
}), 90_000)

it('a worker whose Redis hung and was replaced (the connections it opened meanwhile never answered) is ready and takes work again within REDIS_SOCKET_TIMEOUT_MS and a few seconds', () => withWorker(relay.url, async (worker) => {
  const ready = readiness(worker)
  expect(await (await placed(worker)).opened).toBeLessThan(10_000)

  await relay.hang()
  const during = await placed(worker, 60_000)
  await eventually(async () => (await ready()) === 503, 8_000, 200)
  await sleep(8_000)
  await relay.open()
  const backAt = Date.now()
  await eventually(async () => (await ready()) === 200, 40_000, 200)
  const readyAfterMs = Date.now() - backAt
  await during.opened
  const openedAfterMs = Date.now() - backAt
  const after = await (await placed(worker)).opened
  console.info(`hung 10 s, then replaced: ready ${readyAfterMs} ms after, the held order open after ${openedAfterMs} ms, a new one in ${after} ms`)
  // The worker's connections opened while Redis hung close at the socket timeout (20 s) at the latest.
  expect(openedAfterMs).toBeLessThan(40_000)
  expect(after).toBeLessThan(10_000)
}), 120_000)

it('a worker whose Redis stays stopped reports not ready for as long, and closes within its deadline', async () => {
  const worker = await h.startWorker({ redisUrl: stoppable.url, ...redisTimeouts, streams: false })
  const ready = readiness(worker)
  expect(await ready()).toBe(200)
  stoppable.freeze()
  try {
    await eventually(async () => (await ready()) === 503, 8_000, 200)
    // Past the command timeout and the socket timeout: the reconnects meet the same silence.
    for (const until = Date.now() + 25_000; Date.now() < until; await sleep(2_000)) expect(await ready()).toBe(503)
    const startedAt = Date.now()
    await worker.close(2_000)
    // The jobs' 2 s, then the queues' and connections' closes (QUIT_WAIT_MS, 2 s, each at once).
    expect(Date.now() - startedAt).toBeLessThan(10_000)
  } finally {
    stoppable.resume()
  }
}, 90_000)
