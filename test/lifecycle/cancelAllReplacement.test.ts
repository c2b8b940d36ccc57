/**
 * A user's CancelAll for a market, asked while a rotation revokes the old session: the revocation
 * cancels the order (`sessionRevoked`), and the order is not placed again under the new key (the
 * replacement would be queued after the CancelAll, and neither the claim nor the late-cancel check
 * would stop it): nothing is live after the user's cancel-all.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { requestCancelAll } from '../../src/runtime/intake/requestOrderChange.js'
import { revokeAtOperator } from '../../src/runtime/sessions/revokeAtOperator.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { type GateProxy, startGateProxy } from './support/gateProxy.js'
import { activeWallet, eventually, fromWallet, grant, operatorOpenOrders, place, rows, settled } from './support/lifecycle.js'

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

it('an order re-placed by a session rotation while a CancelAll of its market is on its way does not stay live', async () => {
  const w = await activeWallet(h)
  const order = await place(h, worker, w.wallet.id)
  await settled(h.db, order.id, 'open')

  // The user cancels everything in ETH-USD; the CancelAll is on the wire a moment.
  const cancelAllWire = gate.hold((q) => q.family === 'CancelAll' && fromWallet(w.wallet.address)(q))
  await requestCancelAll(h.db, { walletId: w.wallet.id, market: 'ETH-USD' })
  await worker.relay()
  await cancelAllWire.arrived

  // Meanwhile a rotation: a new session, and the old one revoked at the operator (which cancels the order).
  const replacementWire = gate.hold((q) => q.family === 'Order' && fromWallet(w.wallet.address)(q))
  const { previous } = await grant(h, w)
  await revokeAtOperator(worker.deps, h.keyring, previous[0]!, 'rotated')
  await settled(h.db, order.id, 'cancelled')
  const replacedBy = (await r.order(order.id)).replacedBy
  if (replacedBy) await replacementWire.arrived

  // The CancelAll lands first (re-signed under the new session), then the replacement if any.
  cancelAllWire.release()
  await eventually(async () => (await r.requestsOfWallet(w.wallet.id)).find((q) => q.family === 'CancelAll' && q.status === 'accepted'))
  replacementWire.release()
  if (replacedBy) await settled(h.db, replacedBy, 'open', 'cancelled')
  await new Promise((resolve) => setTimeout(resolve, 2_000))

  // The user asked to cancel every ETH-USD order after this one was placed: nothing is live there.
  expect(operatorOpenOrders(h.sandbox, w.wallet.address)).toEqual([])
}, 60_000)
