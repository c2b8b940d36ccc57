/**
 * Work signed again under a session whose scope does not cover it (the session it was signed under
 * was replaced by a narrower grant, then revoked while the request was on the wire): for a wallet
 * whose sessions the worker grants itself, it is held for a scope change as new work would be,
 * not failed LOCAL.ACL_SCOPE.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { type GateProxy, startGateProxy } from './support/gateProxy.js'
import { activeWallet, eventually, fromWallet, grant, operatorOpenOrders, place, rows, settled } from './support/lifecycle.js'

let h: Harness
let gate: GateProxy
let worker: RunningWorker
let r: ReturnType<typeof rows>
const signers = new Map<string, WalletSigner>()

beforeAll(async () => {
  h = await createHarness()
  r = rows(h.db)
  gate = await startGateProxy(h.sandbox.url)
  worker = await h.startWorker({
    operatorUrl: gate.url, walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
    rotationGraceMs: 1_000, maintenanceIntervalMs: 3_600_000,
  })
})
afterAll(async () => {
  await h?.close()
  await gate?.close()
})

it('a modify on the wire when its session is revoked, the new session not covering ModifyOrder, is held for a scope change and applied', async () => {
  const w = await activeWallet(h, { families: ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'] })
  signers.set(w.wallet.address.toLowerCase(), w.signer)
  const order = await place(h, worker, w.wallet.id)
  await settled(h.db, order.id, 'open')

  const wire = gate.hold((q) => q.family === 'ModifyOrder' && fromWallet(w.wallet.address)(q))
  const { outboxId } = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1895', size: '0.1' })
  await worker.relay()
  expect((await wire.arrived).message.delegation).toBe(w.session.delegationHash)
  // A grant of the default scope (the API's, without families) replaces the session; the old one is revoked after its grace.
  const { session: narrower } = await grant(h, w, { families: ['Order', 'CancelOrder', 'CancelAll'] })
  await eventually(async () => { await worker.maintainSessions(w.wallet.id); return (await r.session(w.session.id)).status === 'revoked' }, 10_000, 250)
  wire.release()

  const work = await eventually(async () => {
    const row = (await r.outboxOfWallet(w.wallet.id)).find((o) => o.id === outboxId)
    return row && ['done', 'failed', 'held'].includes(row.status) && row
  }, 15_000)
  expect([work.status, work.lastError]).not.toEqual(['failed', expect.stringMatching(/LOCAL\.ACL_SCOPE/)])
  // The scope change is made, and the modify lands (on the replacement of the order the revocation cancelled).
  const done = await eventually(async () => {
    const row = (await r.outboxOfWallet(w.wallet.id)).find((o) => o.id === outboxId)
    return row?.status === 'done' && row
  }, 15_000)
  expect(done.status).toBe('done')
  const active = (await r.sessionsOf(w.wallet.id)).find((s) => s.status === 'active')!
  expect(active.id).not.toBe(narrower.id)
  expect(active.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
  const open = await eventually(async () => { const o = operatorOpenOrders(h.sandbox, w.wallet.address); return o.length === 1 && o[0]!.price === 1895n * 10n ** 18n && o })
  expect(open).toHaveLength(1)
})
