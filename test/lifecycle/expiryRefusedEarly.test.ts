/**
 * A request signed shortly before its session's expiry, answered SessionUnauthorized by an operator
 * whose clock runs a little ahead of the worker's measure of it: the session expired there, as it
 * was about to here. That is its expiry, not a failure: the session is recorded `expired` (no
 * `failed_at`, which automatic grants back off on), nothing is alerted, a new session is granted at
 * once, and the work goes out under it. Before, it was recorded `revoked` and failed: with one more
 * failure of the wallet's sessions within the hour, the grant resuming its work waited, alerting
 * SESSION_GRANTS_FAILING.
 *
 * The worker's clock follows the sandbox's, less `lagMs`: the offset it measured at start-up (none)
 * no longer holds once the lag is set, as after a small drift. The event stream is off: it is the
 * stream's SessionExpired that would otherwise often tell the worker first.
 */
import { expect, it } from 'vitest'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import type { SessionRow } from '../../src/store/schema/index.js'
import { gatedWorkerForFile } from './support/workerForFile.js'
import { bareWallet, eventually, fromWallet, grant, operatorDelegation, place } from './support/lifecycle.js'

let lagMs = 0
const signers = new Map<string, WalletSigner>()
const alerts: { walletId: string; code: string }[] = []

const t = gatedWorkerForFile({
  now: () => t.h.sandbox.now() - lagMs,
  streams: false,
  walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
  // Sessions of an hour, rotated only in their last 10 s: the tests reach their ends first.
  sessionLifetimeSeconds: 3600 + 60,
  rotateLeadSeconds: 10,
  maintenanceIntervalMs: 3_600_000,
  alert: (event) => { alerts.push(event) },
})

/**
 * Places an order 20 s before the session's expiry (by both clocks), holds its signed request on
 * the wire until the operator's clock is half a second past the expiry and the worker's 2.5 s
 * before it, then lets it through: the operator answers SessionUnauthorized.
 */
async function placeAcrossExpiry(w: Awaited<ReturnType<typeof bareWallet>>, session: SessionRow) {
  const expiryMs = session.expiryUnix * 1000
  lagMs = 0
  t.h.sandbox.advanceClock(expiryMs - 20_000 - t.h.sandbox.now())
  const held = t.gate.hold(fromWallet(w.signer.address))
  const order = await place(t.h, t.worker, w.wallet.id)
  expect((await held.arrived).message.delegation).toBe(session.delegationHash)
  lagMs = 3_000
  t.h.sandbox.advanceClock(expiryMs + 500 - t.h.sandbox.now())
  held.release()
  // The operator learnt of this delegation from the request, and found it expired.
  await eventually(async () => operatorDelegation(t.h.sandbox, session.delegationHash)?.ended)
  return order
}

it('records a session the operator refused at its expiry as expired, alerts nothing, and places the work under a new session at once', async () => {
  const w = await bareWallet(t.h)
  signers.set(w.signer.address.toLowerCase(), w.signer)
  const { session } = await grant(t.h, w, { lifetimeSeconds: 3600 + 60 })
  const order = await placeAcrossExpiry(w, session)
  const refused = await eventually(async () => { const s = await t.r.session(session.id); return s.status !== 'active' && s })
  expect(refused.statusReason).toMatch(/SessionUnauthorized/)
  expect({ status: refused.status, failedAt: refused.failedAt }).toEqual({ status: 'expired', failedAt: null })
  expect((await t.r.audit(w.wallet.id)).map((a) => a.action)).not.toContain('session.revoked')
  // A new session, granted at once, and the order placed under it.
  const next = await eventually(async () => (await t.r.sessionsOf(w.wallet.id)).find((s) => s.status === 'active' && s.id !== session.id))
  await eventually(async () => { const o = await t.r.order(order.id); return o.state === 'open' && o.sessionId === next.id })
  expect(alerts.filter((a) => a.walletId === w.wallet.id)).toEqual([])
})
