/**
 * An order whose good-till time passed before its placement went out (no worker took it in time:
 * the queue backed up, Redis or the workers down) is never sent: it would trade after the time the
 * user said it must be gone by, and one that crosses would fill at once. It is cancelled here,
 * reason goodTill, as its good-till cancel would have cancelled it had it rested.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel } from '../../src/runtime/intake/requestOrderChange.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, eventually, operatorOrder, rows, settled } from './support/lifecycle.js'

let h: Harness
let worker: RunningWorker | undefined
let r: ReturnType<typeof rows>

beforeAll(async () => {
  h = await createHarness()
  r = rows(h.db)
})
afterAll(async () => {
  await worker?.close()
  await h?.close()
})

it('is not placed once its good-till time has passed, and its good-till cancel settles without a request', async () => {
  const w = await activeWallet(h)
  // At the mark: it would fill as soon as it reached the operator. No worker runs yet.
  const input = { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy' as const, price: '2000', size: '0.1', goodTill: new Date(Date.now() + 1_000) }
  const { order } = await placeLimitOrder(h.db, await h.markets(), input, new Date())
  await new Promise((resolve) => setTimeout(resolve, 1_500))

  worker = await h.startWorker()
  await worker.relay()
  const cancelled = await settled(h.db, order.id, 'cancelled', 'filled', 'open')
  expect([cancelled.state, cancelled.cancelReason]).toEqual(['cancelled', 'goodTill'])
  expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toBeUndefined()
  expect(await r.requestsOf(order.id)).toEqual([])
  await eventually(async () => (await r.outboxOf(order.id)).every((o) => o.status === 'done'))
  expect((await r.intentsOf(w.wallet.id))[0]!.status).toBe('cancelled')
})

it('is not placed by a worker whose clock runs behind, its good-till time passed on Postgres\'s clock', async () => {
  await worker?.close()
  worker = undefined
  const w = await activeWallet(h)
  // At the mark, as above. No worker runs until its good-till time has passed on Postgres's clock.
  const input = { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy' as const, price: '2000', size: '0.1', goodTill: new Date(Date.now() + 1_000) }
  const { order } = await placeLimitOrder(h.db, await h.markets(), input, new Date())
  await new Promise((resolve) => setTimeout(resolve, 1_500))

  // A worker whose clock runs a minute behind: by it, the good-till time is still 58 s away.
  worker = await h.startWorker({ now: () => Date.now() - 60_000 })
  await worker.relay()
  const cancelled = await settled(h.db, order.id, 'cancelled', 'filled', 'open')
  expect([cancelled.state, cancelled.cancelReason]).toEqual(['cancelled', 'goodTill'])
  expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toBeUndefined()
  expect(await r.requestsOf(order.id)).toEqual([])
})

it('cancelled by its user before it was sent, says so on a worker whose clock runs ahead of its good-till time', async () => {
  await worker?.close()
  worker = undefined
  const w = await activeWallet(h)
  const input = { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy' as const, price: '1900', size: '0.1', goodTill: new Date(Date.now() + 30_000) }
  const { order } = await placeLimitOrder(h.db, await h.markets(), input, new Date())
  await requestCancel(h.db, { orderId: order.id })

  // By this worker's clock the good-till time has passed; by Postgres's it is 30 s away: the user's cancel is why.
  worker = await h.startWorker({ now: () => Date.now() + 60_000 })
  await worker.relay()
  const cancelled = await settled(h.db, order.id, 'cancelled', 'open')
  expect([cancelled.state, cancelled.cancelReason]).toEqual(['cancelled', 'user'])
  expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toBeUndefined()
})
