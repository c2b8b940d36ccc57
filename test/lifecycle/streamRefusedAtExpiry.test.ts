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
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { type GateProxy, startGateProxy } from './support/gateProxy.js'
import { bareWallet, eventually, grant, operatorDelegation, rows } from './support/lifecycle.js'

let h: Harness
let gate: GateProxy
let worker: RunningWorker
let r: ReturnType<typeof rows>
let lagMs = 0
const signers = new Map<string, WalletSigner>()
const alerts: { walletId: string; code: string }[] = []

beforeAll(async () => {
  h = await createHarness()
  r = rows(h.db)
  gate = await startGateProxy(h.sandbox.url)
  worker = await h.startWorker({
    operatorUrl: gate.url,
    now: () => h.sandbox.now() - lagMs,
    walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
    // Sessions of an hour, rotated only in their last 10 s: the test reaches the end first.
    sessionLifetimeSeconds: 3600 + 60,
    rotateLeadSeconds: 10,
    maintenanceIntervalMs: 3_600_000,
    alert: (event) => { alerts.push(event) },
  })
})
afterAll(async () => {
  await h?.close()
  await gate?.close()
})

it('records a session its event stream was refused at its expiry as expired, alerts nothing, and grants a new one at once', async () => {
  const w = await bareWallet(h)
  signers.set(w.signer.address.toLowerCase(), w.signer)
  const held = gate.holdStreams()
  const { session } = await grant(h, w, { lifetimeSeconds: 3600 + 60 })
  await held.arrived
  expect(worker.streams?.wallets()).toContain(w.wallet.id)

  lagMs = 3_000
  h.sandbox.advanceClock(session.expiryUnix * 1000 + 500 - h.sandbox.now())
  held.release()

  const refused = await eventually(async () => { const s = await r.session(session.id); return s.status !== 'active' && s })
  expect(refused.statusReason).toMatch(/^event stream answered SessionUnauthorized/)
  expect(operatorDelegation(h.sandbox, session.delegationHash)?.ended).toBe(true)
  expect({ status: refused.status, failedAt: refused.failedAt }).toEqual({ status: 'expired', failedAt: null })
  expect((await r.audit(w.wallet.id)).map((a) => a.action)).not.toContain('session.revoked')
  await eventually(async () => (await r.sessionsOf(w.wallet.id)).find((s) => s.status === 'active' && s.id !== session.id))
  expect(alerts.filter((a) => a.walletId === w.wallet.id)).toEqual([])
})
