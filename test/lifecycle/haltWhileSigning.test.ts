/**
 * A halt that commits after a placement was claimed and before it was signed: the placement is
 * never signed nor sent. The claim checked the wallet before the halt; the halt cancelled only
 * the pending orders and answered; the worker then signed and sent the claimed order, which the
 * operator placed (and a crossing one filled) while the wallet was halted. Found by the drill's
 * kill switches (two workers: two crossing orders signed 60 ms after the halt, both filled).
 * The local policy check, which runs between the claim and the signature, trips the kill switch
 * here, in the batched path (jobs running together) and one by one (a rate limit's retry goes there).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { haltWallet } from '../../src/runtime/intake/killSwitch.js'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, eventually, operatorOrder, operatorOrders, place, rows, settled } from './support/lifecycle.js'

let h: Harness
let worker: RunningWorker
let r: ReturnType<typeof rows>
/** Wallets whose kill switch the policy check trips (once) while their work of `trippingOn` is being checked. */
const tripping = new Set<string>()
let trippingOn = 'Order'

beforeAll(async () => {
  h = await createHarness()
  r = rows(h.db)
  worker = await h.startWorker({
    policy: async ({ walletId, family }) => {
      if (family === trippingOn && tripping.delete(walletId)) await haltWallet(h.db, { walletId, reason: 'tripped while the placement was being signed' })
      return null
    },
  })
})
afterAll(async () => {
  await h?.close()
})

describe('a halt between the claim and the signature', () => {
  it('stops the placement: nothing signed or sent, the order cancelled as halted', async () => {
    const w = await activeWallet(h)
    tripping.add(w.wallet.id)
    // Crossing: sent, it would fill at once.
    const order = await place(h, worker, w.wallet.id, { price: '2100', size: '0.01' })
    const cancelled = await settled(h.db, order.id, 'cancelled', 'filled', 'open', 'partially_filled')
    expect(tripping.has(w.wallet.id)).toBe(false)
    expect(operatorOrders(h.sandbox, w.wallet.address)).toEqual([])
    expect(cancelled).toMatchObject({ state: 'cancelled', cancelReason: 'halted' })
    expect((await r.requestsOfWallet(w.wallet.id)).filter((q) => q.family === 'Order')).toEqual([])
    await eventually(async () => (await r.outboxOfWallet(w.wallet.id)).find((o) => o.kind === 'Order' && o.status === 'done'))
  })

  it('stops a modification the same way (one by one): not signed, not applied', async () => {
    const w = await activeWallet(h)
    const order = await place(h, worker, w.wallet.id, { price: '1900', size: '0.01' })
    await settled(h.db, order.id, 'open')
    trippingOn = 'ModifyOrder'
    tripping.add(w.wallet.id)
    // Through the mark: sent, it would fill at once.
    const { outboxId } = await requestModify(h.db, worker.markets, { orderId: order.id, price: '2100', size: '0.02' })
    await worker.relay()
    const row = await eventually(async () => (await r.outboxOfWallet(w.wallet.id)).find((o) => o.id === outboxId && o.status === 'done'))
    expect(tripping.has(w.wallet.id)).toBe(false)
    expect(row.lastError).toBe('wallet halted: modification not applied')
    expect((await r.requestsOfWallet(w.wallet.id)).filter((q) => q.family === 'ModifyOrder')).toEqual([])
    expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ revision: 0, filled: 0n })
  })
})
