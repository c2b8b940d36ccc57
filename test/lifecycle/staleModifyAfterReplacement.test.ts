/**
 * A ModifyOrder on the wire for an order that a rotation cancels and re-places does not follow the
 * replacement when the user has since modified the replacement itself (as intake tells them to): it
 * would be sent after that newer modify, which does not wait for it, and undo it.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { sessions } from '../../src/store/schema/index.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { type GateProxy, startGateProxy } from './support/gateProxy.js'
import { activeWallet, eventually, fromWallet, operatorOrder, place, rows, settled } from './support/lifecycle.js'

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
    operatorUrl: gate.url,
    walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
    rotateLeadSeconds: 3 * 3600,
    rotationGraceMs: 1_000,
    maintenanceIntervalMs: 3_600_000,
  })
})
afterAll(async () => {
  await h?.close()
  await gate?.close()
})

it('a modify of the replaced order, on the wire at the rotation, does not land after a later modify of the replacement', async () => {
  const w = await activeWallet(h, { lifetimeSeconds: 2 * 3600 })
  const old = w.session
  signers.set(w.wallet.address.toLowerCase(), w.signer)
  const first = await place(h, worker, w.wallet.id, { price: '1900', size: '1' })
  await settled(h.db, first.id, 'open')

  // M1 (older): the user's first change, signed under the old session and held on the wire.
  const wire = gate.hold((q) => q.family === 'ModifyOrder' && fromWallet(w.wallet.address)(q) && String(q.message.clientOrderId).toLowerCase() === first.clientOrderId.toLowerCase())
  await requestModify(h.db, worker.markets, { orderId: first.id, price: '1910', size: '0.9' })
  await worker.relay()
  expect((await wire.arrived).message.delegation).toBe(old.delegationHash)

  // Rotation: the old session is revoked at the operator, the order cancelled there and placed again.
  expect((await worker.maintainSessions(w.wallet.id)).rotated).toBe(1)
  await eventually(async () => { await worker.maintainSessions(w.wallet.id); return (await h.db.select().from(sessions).where(eq(sessions.id, old.id)))[0]!.status === 'revoked' }, 10_000, 250)
  const replacedBy = await eventually(async () => (await r.order(first.id)).replacedBy)
  await settled(h.db, replacedBy, 'open')

  // M2 (newer): the user changes the replacement (the order they now see) and it is applied.
  await requestModify(h.db, worker.markets, { orderId: replacedBy, price: '1920', size: '0.5' })
  await worker.relay()
  await eventually(async () => { const o = await r.order(replacedBy); return o.venueRevision === 1 && o })
  expect(Number((await r.order(replacedBy)).price)).toBe(1920)

  // The older change, let through now, must not overwrite the newer one.
  wire.release()
  await eventually(async () => (await r.outboxOfWallet(w.wallet.id)).filter((o) => o.kind === 'ModifyOrder').every((o) => o.status === 'done' || o.status === 'failed'), 15_000)
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  const atOperator = operatorOrder(h.sandbox, w.wallet.address, (await r.order(replacedBy)).clientOrderId)!
  expect({ price: atOperator.price, size: atOperator.size }).toEqual({ price: 1920n * 10n ** 18n, size: 5n * 10n ** 17n })
  signers.delete(w.wallet.address.toLowerCase())
})
