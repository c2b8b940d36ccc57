/**
 * An event stream opened with a session just before its expiry by the worker's measure of the
 * operator's clock, and refused SessionUnauthorized by an operator whose clock runs a little ahead
 * (the session expired there): as a request refused so (expiryRefusedEarly.test.ts), that is the
 * session's expiry, not a failure. It is recorded `expired` (no `failed_at`, which automatic grants
 * back off on), nothing is alerted, and a new session is granted at once. Before, the stream
 * compared the expiry with the measured clock, no margin, and recorded it `revoked` and failed.
 *
 * The worker's clock follows the sandbox's, less `lagMs` (set after start-up, as after a small
 * drift). The stream's opening is held at a proxy from before the expiry until the operator's clock
 * is half a second past it and the worker's 2.5 s before it, as a stream reconnecting then would be.
 */
import { expect, it } from 'vitest'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import { gatedWorkerForFile } from './support/workerForFile.js'
import { bareWallet, eventually, grant, operatorDelegation } from './support/lifecycle.js'

let lagMs = 0
const signers = new Map<string, WalletSigner>()
const alerts: { walletId: string; code: string }[] = []

const t = gatedWorkerForFile({
  now: () => t.h.sandbox.now() - lagMs,
  walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
  // Sessions of an hour, rotated only in their last 10 s: the test reaches the end first.
  sessionLifetimeSeconds: 3600 + 60,
  rotateLeadSeconds: 10,
  maintenanceIntervalMs: 3_600_000,
  alert: (event) => { alerts.push(event) },
})

it('records a session its event stream was refused at its expiry as expired, alerts nothing, and grants a new one at once', async () => {
  const w = await bareWallet(t.h)
  signers.set(w.signer.address.toLowerCase(), w.signer)
  const held = t.gate.holdStreams()
  const { session } = await grant(t.h, w, { lifetimeSeconds: 3600 + 60 })
  await held.arrived
  expect(t.worker.streams?.wallets()).toContain(w.wallet.id)

  lagMs = 3_000
  t.h.sandbox.advanceClock(session.expiryUnix * 1000 + 500 - t.h.sandbox.now())
  held.release()

  const refused = await eventually(async () => { const s = await t.r.session(session.id); return s.status !== 'active' && s })
  expect(refused.statusReason).toMatch(/^event stream answered SessionUnauthorized/)
  expect(operatorDelegation(t.h.sandbox, session.delegationHash)?.ended).toBe(true)
  expect({ status: refused.status, failedAt: refused.failedAt }).toEqual({ status: 'expired', failedAt: null })
  expect((await t.r.audit(w.wallet.id)).map((a) => a.action)).not.toContain('session.revoked')
  await eventually(async () => (await t.r.sessionsOf(w.wallet.id)).find((s) => s.status === 'active' && s.id !== session.id))
  expect(alerts.filter((a) => a.walletId === w.wallet.id)).toEqual([])
})
