/**
 * Work signed again under a session whose scope does not cover it (the session it was signed under
 * was replaced by a narrower grant, then revoked while the request was on the wire): for a wallet
 * whose sessions the worker grants itself, it is held for a scope change as new work would be,
 * not failed LOCAL.ACL_SCOPE.
 */
import { expect, it } from 'vitest'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import { gatedWorkerForFile } from './support/workerForFile.js'
import { activeWallet, eventually, fromWallet, grant, operatorOpenOrders, place, settled } from './support/lifecycle.js'

const signers = new Map<string, WalletSigner>()

const t = gatedWorkerForFile({
  walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
  rotationGraceMs: 1_000, maintenanceIntervalMs: 3_600_000,
})

it('a modify on the wire when its session is revoked, the new session not covering ModifyOrder, is held for a scope change and applied', async () => {
  const w = await activeWallet(t.h, { families: ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'] })
  signers.set(w.wallet.address.toLowerCase(), w.signer)
  const order = await place(t.h, t.worker, w.wallet.id)
  await settled(t.h.db, order.id, 'open')

  const wire = t.gate.hold((q) => q.family === 'ModifyOrder' && fromWallet(w.wallet.address)(q))
  const { outboxId } = await requestModify(t.h.db, t.worker.markets, { orderId: order.id, price: '1895', size: '0.1' })
  await t.worker.relay()
  expect((await wire.arrived).message.delegation).toBe(w.session.delegationHash)
  // A grant of the default scope (the API's, without families) replaces the session; the old one is revoked after its grace.
  const { session: narrower } = await grant(t.h, w, { families: ['Order', 'CancelOrder', 'CancelAll'] })
  await eventually(async () => { await t.worker.maintainSessions(w.wallet.id); return (await t.r.session(w.session.id)).status === 'revoked' }, 10_000, 250)
  wire.release()

  const work = await eventually(async () => {
    const row = (await t.r.outboxOfWallet(w.wallet.id)).find((o) => o.id === outboxId)
    return row && ['done', 'failed', 'held'].includes(row.status) && row
  }, 15_000)
  expect([work.status, work.lastError]).not.toEqual(['failed', expect.stringMatching(/LOCAL\.ACL_SCOPE/)])
  // The scope change is made, and the modify lands (on the replacement of the order the revocation cancelled).
  const done = await eventually(async () => {
    const row = (await t.r.outboxOfWallet(w.wallet.id)).find((o) => o.id === outboxId)
    return row?.status === 'done' && row
  }, 15_000)
  expect(done.status).toBe('done')
  const active = (await t.r.sessionsOf(w.wallet.id)).find((s) => s.status === 'active')!
  expect(active.id).not.toBe(narrower.id)
  expect(active.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
  const open = await eventually(async () => { const o = operatorOpenOrders(t.h.sandbox, w.wallet.address); return o.length === 1 && o[0]!.price === 1895n * 10n ** 18n && o })
  expect(open).toHaveLength(1)
})
