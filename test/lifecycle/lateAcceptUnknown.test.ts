/**
 * An Order on the wire when the kill switch trips reaches the operator after the CancelAll, and its
 * answer is lost. The retry is stopped (halted) and the order read back as open; the CancelOrder a
 * receipt would have queued is queued then too, so it does not stay live after the halt.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { haltWallet } from '../../src/runtime/intake/killSwitch.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { type GateProxy, startGateProxy } from './support/gateProxy.js'
import { activeWallet, eventually, fromWallet, operatorOrder, place, rows } from './support/lifecycle.js'

let h: Harness
let gate: GateProxy
let worker: RunningWorker
let r: ReturnType<typeof rows>

beforeAll(async () => {
  h = await createHarness()
  r = rows(h.db)
  gate = await startGateProxy(h.sandbox.url)
  worker = await h.startWorker({ operatorUrl: gate.url })
})
afterAll(async () => {
  await h?.close()
  await gate?.close()
})

it('cancels an order that landed after the halt\'s CancelAll even when its answer was lost', async () => {
  const w = await activeWallet(h)
  const onTheWire = gate.hold((q) => q.family === 'Order' && fromWallet(w.wallet.address)(q))
  const order = await place(h, worker, w.wallet.id)
  await onTheWire.arrived
  await haltWallet(h.db, { walletId: w.wallet.id, reason: 'stop' })
  await worker.relay()
  const cancelAll = await eventually(async () => (await r.requestsOfWallet(w.wallet.id)).find((q) => q.family === 'CancelAll' && q.status === 'accepted'))
  expect(cancelAll.receipt).toMatchObject({ cancelled: [] })
  // The Order lands now, and its answer is lost.
  h.sandbox.setFaults({ dropAfterAccept: 1 })
  onTheWire.release()
  await eventually(async () => operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId))
  h.sandbox.setFaults({ dropAfterAccept: 0 })
  // The worker learns the order is open (read-back / stream)...
  await eventually(async () => ['open', 'cancelled'].includes((await r.order(order.id)).state), 20_000)
  // ...and must take it down: the wallet is halted.
  await eventually(async () => operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)?.status === 'cancelled', 20_000)
}, 60_000)
