/** Two runs of the same work, driven by hand: the shared setup of the concurrentRun* tests. */
import { placeLimitOrder } from '../../../src/runtime/intake/placeLimitOrder.js'
import { eventually, type Harness } from './harness.js'
import { rows } from './rows.js'

/** A run's control that fails the test if the run waits (it is expected to go straight through). */
export const noDelay = { delay: async (): Promise<never> => { throw new Error('not expected to wait') } }

/**
 * A wallet's order open at the operator, and its worker closed (no stream either): no job runs the
 * work queued next, only the runs a test makes with `deps`.
 */
export async function openOrderWithoutWorker(h: Harness) {
  const { wallet, signer, session } = await h.wallet()
  const worker = await h.startWorker({ streams: false })
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
  await worker.relay()
  await eventually(async () => (await rows(h.db).order(order.id)).state === 'open')
  await worker.close()
  return { wallet, signer, session, order, worker, deps: worker.deps }
}
