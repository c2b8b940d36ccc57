/**
 * A halt under a session whose scope has CancelAll but no CancelOrder (the user chose Order and
 * CancelAll): an Order on the wire when the switch tripped lands after the halt's CancelAll. The
 * CancelOrder a late order gets cannot be signed under that scope; a CancelAll of its market is
 * sent instead, so the order does not stay live through the halt.
 *
 * That CancelAll is only sent while the wallet is halted: after a resume it would also cancel the
 * orders placed since. So a resume right after the halt's CancelAll was accepted, while such an
 * Order is still on the wire, waits until the wire is clear.
 */
import { expect, it } from 'vitest'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { gatedWorkerForFile } from './support/workerForFile.js'
import { activeWallet, eventually, fromWallet, operatorOrder, place, settled } from './support/lifecycle.js'

const t = gatedWorkerForFile()

/**
 * A wallet under a scope of Order and CancelAll whose Order is held on the wire while the kill switch
 * trips; the halt's CancelAll is accepted (nothing to cancel yet), the Order still held.
 */
async function onTheWireAtTheHalt() {
  const w = await activeWallet(t.h, { families: ['Order', 'CancelAll'] })
  const onTheWire = t.gate.hold((q) => q.family === 'Order' && fromWallet(w.wallet.address)(q))
  const order = await place(t.h, t.worker, w.wallet.id)
  await onTheWire.arrived
  await haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'stop' })
  await t.worker.relay()
  await eventually(async () => (await t.r.requestsOfWallet(w.wallet.id)).find((q) => q.family === 'CancelAll' && q.status === 'accepted'))
  return { w, order, onTheWire }
}

it('an order landing after the halt\'s CancelAll, under a scope with CancelAll but no CancelOrder, ends cancelled', async () => {
  const { w, order, onTheWire } = await onTheWireAtTheHalt()
  onTheWire.release()
  await eventually(async () => operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)?.status === 'cancelled', 15_000)
  expect(await settled(t.h.db, order.id, 'cancelled')).toMatchObject({ state: 'cancelled' })
  const cancel = await eventually(async () => (await t.r.outboxOf(order.id)).find((o) => o.kind === 'CancelOrder' && o.status === 'done'))
  expect(cancel.lastError).toMatch(/^the session's scope \[Order, CancelAll\] has no CancelOrder: the wallet is halted, a CancelAll of ETH-USD \(work .+\) queued instead$/)
  expect((await t.r.outboxOfWallet(w.wallet.id)).filter((o) => o.kind === 'CancelAll').map((o) => [o.status, o.payload])).toEqual([
    ['done', { market: '', reason: 'killSwitch' }], ['done', { market: 'ETH-USD', reason: 'killSwitch' }],
  ])
}, 30_000)

it('an order on the wire when the switch tripped does not stay live at the operator through a resume', async () => {
  const { w, order, onTheWire } = await onTheWireAtTheHalt()
  const resumed = await resumeWallet(t.h.db, { walletId: w.wallet.id }).then((v) => v, (e: unknown) => e)
  expect(resumed).toBeInstanceOf(ValidationError)
  expect((resumed as ValidationError).field).toBe('walletId')
  expect((resumed as ValidationError).message).toBe(`walletId: must be a wallet whose kill switch has reached the operator: order ${order.id}, sent before the halt, is not answered yet (submitting); resume once it is`)
  expect((await t.r.wallet(w.wallet.id)).status).toBe('halted')
  onTheWire.release()
  // Landed after the CancelAll, the order is taken down (a CancelAll of its market, the wallet being halted)...
  await eventually(async () => operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)?.status === 'cancelled', 15_000)
  // ...and once that has reached the operator the wallet resumes.
  await eventually(async () => (await t.r.outboxOfWallet(w.wallet.id)).every((o) => o.status === 'done'), 15_000)
  expect(await resumeWallet(t.h.db, { walletId: w.wallet.id })).toEqual({ status: 'active' })
}, 60_000)
