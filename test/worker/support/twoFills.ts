import { placeLimitOrder } from '../../../src/runtime/intake/placeLimitOrder.js'
import type { RunningWorker } from '../../../src/worker.js'
import { eventually, type Harness } from './harness.js'
import { operatorFills } from './operator.js'
import { rows } from './rows.js'

/**
 * A buy of 1 ETH-USD at 1990 placed and open, then filled twice by the sandbox's maker (the mark
 * crosses it twice and goes back to 2000), for a harness whose maker fills 0.3 at a time
 * (`makerSize`): the order, and its two fills as the operator holds them, oldest first.
 */
export async function openBuyFilledTwice(h: Harness, worker: Pick<RunningWorker, 'markets' | 'relay'>, wallet: { id: string; address: string }) {
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '1' }, new Date())
  await worker.relay()
  await eventually(async () => (await rows(h.db).order(order.id)).state === 'open')
  try {
    h.sandbox.setMark('ETH-USD', '1990')
    h.sandbox.setMark('ETH-USD', '1990')
  } finally {
    h.sandbox.setMark('ETH-USD', '2000')
  }
  const fills = operatorFills(h.sandbox, wallet.address).filter((f) => f.clientOrderId.toLowerCase() === order.clientOrderId.toLowerCase())
  return { order, fills }
}
