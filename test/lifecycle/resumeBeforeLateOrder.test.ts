/**
 * A resume right after the halt's CancelAll was accepted, while an Order sent before the halt is
 * still on the wire. Under a session whose scope has CancelAll but no CancelOrder, the only cancel
 * left for that order once it lands would be a CancelAll of its market, which after the resume
 * would also cancel the orders placed since: so the resume waits until the wire is clear.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
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

it('an order on the wire when the switch tripped does not stay live at the operator through a resume', async () => {
  const w = await activeWallet(h, { families: ['Order', 'CancelAll'] })
  const onTheWire = gate.hold((q) => q.family === 'Order' && fromWallet(w.wallet.address)(q))
  const order = await place(h, worker, w.wallet.id)
  await onTheWire.arrived
  await haltWallet(h.db, { walletId: w.wallet.id, reason: 'stop' })
  await worker.relay()
  await eventually(async () => (await r.requestsOfWallet(w.wallet.id)).find((q) => q.family === 'CancelAll' && q.status === 'accepted'))
  const resumed = await resumeWallet(h.db, { walletId: w.wallet.id }).then((v) => v, (e: unknown) => e)
  expect(resumed).toBeInstanceOf(ValidationError)
  expect((resumed as ValidationError).field).toBe('walletId')
  expect((resumed as ValidationError).message).toBe(`walletId: must be a wallet whose kill switch has reached the operator: order ${order.id}, sent before the halt, is not answered yet (submitting); resume once it is`)
  expect((await r.wallet(w.wallet.id)).status).toBe('halted')
  onTheWire.release()
  // Landed after the CancelAll, the order is taken down (a CancelAll of its market, the wallet being halted)...
  await eventually(async () => operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)?.status === 'cancelled', 15_000)
  // ...and once that has reached the operator the wallet resumes.
  await eventually(async () => (await r.outboxOfWallet(w.wallet.id)).every((o) => o.status === 'done'), 15_000)
  expect(await resumeWallet(h.db, { walletId: w.wallet.id })).toEqual({ status: 'active' })
}, 60_000)
