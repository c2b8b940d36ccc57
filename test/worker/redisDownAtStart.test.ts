/**
 * A worker (re)started while Redis is down waits for Redis before it takes jobs, but the parts
 * that do not need Redis run meanwhile, once the start-up reconciliation is done: the cancel lane
 * (cancels, the kill switch, must reach the operator whatever Redis does) and the event streams
 * (fills and cancels at the operator are recorded). Redis sits behind a TCP relay that stays
 * closed while the worker starts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { haltWallet } from '../../src/runtime/intake/killSwitch.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { OrderRow } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { lateRelay } from '../support/lateRelay.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let redis: Awaited<ReturnType<typeof lateRelay>>
let starting: Promise<RunningWorker> | undefined

beforeAll(async () => {
  h = await createHarness()
  redis = await lateRelay(REDIS_URL)
})
afterAll(async () => {
  await redis?.open()
  await starting?.catch(() => undefined)
  await h?.close()
  await redis?.close()
}, 120_000)

it('a worker started while Redis is down trips the kill switch at the operator and records the fills the stream brings', async () => {
  // Orders resting at the operator, placed by a worker that then stops.
  const first = await h.startWorker()
  const w = await h.wallet()
  const placed: OrderRow[] = []
  for (const price of ['1900', '1910']) {
    placed.push((await placeLimitOrder(h.db, first.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())).order)
  }
  await first.relay()
  await eventually(async () => (await Promise.all(placed.map((o) => rows(h.db).order(o.id)))).every((o) => o.state === 'open'))
  await first.close()

  // Restarted while Redis is down.
  starting = h.startWorker({ redisUrl: redis.url })
  starting.catch(() => undefined)
  // A fill at the operator meanwhile: the stream records it.
  h.sandbox.setMark('ETH-USD', '1905')
  await eventually(async () => (await rows(h.db).order(placed[1]!.id)).state === 'filled', 15_000)
  // The kill switch reaches the operator without Redis.
  await haltWallet(h.db, { walletId: w.wallet.id, reason: 'test: Redis down at start' })
  await eventually(async () => operatorOrder(h.sandbox, w.signer.address, placed[0]!.clientOrderId)?.status === 'cancelled', 15_000)
  await eventually(async () => (await rows(h.db).order(placed[0]!.id)).state === 'cancelled')

  // Once Redis answers, the worker finishes starting.
  await redis.open()
  const worker = await starting
  expect(worker.owner).toBeTruthy()
}, 90_000)
