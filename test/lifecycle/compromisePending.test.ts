/**
 * A compromise stops the wallet's queued work (outbox pending → done) and cancels its intents; a
 * placement not relayed yet ends cancelled, as a halt ends one, not pending for good (no claim would
 * run to end it). No worker runs in this file, so nothing relays the placement first.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { compromiseWallet } from '../../src/runtime/sessions/compromiseWallet.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, rows } from './support/lifecycle.js'

let h: Harness
beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

it('a placement queued but not relayed when the wallet is compromised ends cancelled, not pending for good', async () => {
  const r = rows(h.db)
  const w = await activeWallet(h)
  // A worker's adapters, its loops stopped (nothing relays).
  const worker = await h.startWorker({ streams: false })
  await worker.close()
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date())
  await compromiseWallet(worker.deps, h.keyring, { walletId: w.wallet.id, reason: 'key leaked' })
  const work = await r.outboxOf(order.id)
  const after = await r.order(order.id)
  expect({ work: work.map((x) => `${x.kind}:${x.status}`), state: after.state, reason: after.cancelReason }).toEqual({ work: ['Order:done'], state: 'cancelled', reason: 'halted' })
})
