/**
 * While Redis is down, one wallet's cancel refused SessionUnauthorized (its session was revoked at
 * the operator behind the worker's back) does not stop the cancel lane: asking for that wallet's
 * replacement session goes through the control queue, which does not answer, and the lane must
 * not wait for it before it sends every other wallet's cancels and kill switch.
 */
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, it } from 'vitest'
import { haltWallet } from '../../src/runtime/intake/killSwitch.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel } from '../../src/runtime/intake/requestOrderChange.js'
import { type OrderRow, requests } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { lateRelay } from '../support/lateRelay.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder, revokeBehindTheWorkersBack } from './support/operator.js'

let h: Harness
let redis: Awaited<ReturnType<typeof lateRelay>>
let worker: RunningWorker

beforeAll(async () => {
  h = await createHarness()
  redis = await lateRelay(REDIS_URL)
  await redis.open()
  // No event stream: the worker learns of the revocation only from the cancel's answer.
  worker = await h.startWorker({ redisUrl: redis.url, streams: false })
})
afterAll(async () => {
  await redis?.open()
  await h?.close()
  await redis?.close()
})

async function restingOrder(w: Awaited<ReturnType<Harness['wallet']>>, price: string): Promise<OrderRow> {
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())
  await worker.relay()
  await eventually(async () => operatorOrder(h.sandbox, w.signer.address, order.clientOrderId)?.status === 'open')
  return order
}

it("sends a kill switch while Redis is down after another wallet's cancel was refused SessionUnauthorized", async () => {
  const refused = await h.wallet()
  const refusedOrder = await restingOrder(refused, '1900')
  const halted = await h.wallet()
  const haltedOrder = await restingOrder(halted, '1910')
  await revokeBehindTheWorkersBack(worker.deps, refused.wallet.id)

  await redis.close()
  try {
    await requestCancel(h.db, { orderId: refusedOrder.id })
    // The lane sends it, and hears SessionUnauthorized.
    await eventually(async () => (await h.db.select().from(requests)
      .where(and(eq(requests.walletId, refused.wallet.id), eq(requests.family, 'CancelOrder'), eq(requests.errorCode, 'SessionUnauthorized')))).length > 0, 15_000)
    await haltWallet(h.db, { walletId: halted.wallet.id, reason: 'test: after another wallet was refused' })
    await eventually(async () => operatorOrder(h.sandbox, halted.signer.address, haltedOrder.clientOrderId)?.status === 'cancelled', 15_000)
  } finally {
    await redis.open()
  }
}, 90_000)
