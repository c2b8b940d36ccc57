import { expect } from 'vitest'
import { placeLimitOrder } from '../../../src/runtime/intake/placeLimitOrder.js'
import type { RunningWorker } from '../../../src/worker.js'
import { eventually, type Harness } from './harness.js'
import { rows } from './rows.js'

/** A started worker takes work: an Order placed for a fresh wallet opens at the operator, sent once. */
export async function expectTakesWork(h: Harness, worker: RunningWorker): Promise<void> {
  const { wallet } = await h.wallet()
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date())
  const db = rows(h.db)
  await eventually(async () => (await db.order(order.id)).state === 'open', 20_000)
  expect((await db.answeredRequestsOf(order.id)).filter((r) => r.status === 'accepted').map((r) => r.family)).toEqual(['Order'])
}
