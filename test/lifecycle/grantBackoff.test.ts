/**
 * Automatic session grants back off on a wallet whose sessions keep failing: a wallet signer that
 * is down (the custody API), or an operator that refuses every delegation of the wallet. The first
 * failure is replaced at once; from the second in an hour the next grant waits, doubling, and each
 * such retry raises SESSION_GRANTS_FAILING. Before, maintenance asked the signer on every run
 * (every 10 s), and every refusal triggered another grant at once.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { familiesFor } from '../../src/core/acl/familiesFor.js'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import { sessions } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, bareWallet, eventually, grant, openWithSession, operatorDelegation, place, revokeBehindTheWorkersBack, rows, settled } from './support/lifecycle.js'

/** The first wait; long enough that nothing in a test outruns it by accident. */
const BASE_MS = 4_000
let h: Harness
let worker: RunningWorker
let r: ReturnType<typeof rows>
const signers = new Map<string, WalletSigner>()
const alerts: { walletId: string; code: string; message: string; details?: Record<string, unknown> }[] = []

beforeAll(async () => {
  h = await createHarness()
  r = rows(h.db)
  worker = await h.startWorker({
    walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
    // Maintenance runs when a test (or a refused session) asks for it, not on a timer.
    maintenanceIntervalMs: 3_600_000,
    grantRetryBaseMs: BASE_MS,
    alert: (event) => { alerts.push(event) },
  })
  // The job scheduler's first run is an hour on (`upsertWorkerSchedulers`): the runs a test makes
  // are the only ones (another at the same moment would share its grant attempts).
  expect(await worker.controlQueue.getJobCountByTypes('waiting', 'active', 'prioritized')).toBe(0)
})
afterAll(async () => {
  await h?.close()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const alertsOf = (walletId: string) => alerts.filter((a) => a.walletId === walletId && a.code === 'SESSION_GRANTS_FAILING')

it('asks a failing wallet signer again at once after its first failure, then only after a wait that doubles', async () => {
  const w = await bareWallet(h)
  let calls = 0
  signers.set(w.wallet.address.toLowerCase(), { kind: 'privy', address: w.signer.address, signDelegation: async () => { calls++; throw new Error('custody API unavailable') },
    signRevocation: async () => { throw new Error('custody API unavailable') } })
  const run = () => worker.maintainSessions(w.wallet.id)

  expect(await run()).toMatchObject({ failures: 1, backedOff: 0 })
  expect(await run()).toMatchObject({ failures: 1, backedOff: 0 })
  expect(calls).toBe(2)
  // Two failures within the hour: the next grant waits BASE_MS after the latest.
  expect(await run()).toMatchObject({ failures: 0, backedOff: 1 })
  expect(calls).toBe(2)
  expect(alertsOf(w.wallet.id)).toEqual([])
  const failed = await r.sessionsOf(w.wallet.id)
  expect(failed.map((s) => [s.status, s.statusReason, s.failedAt !== null])).toEqual([
    ['revoked', 'grant failed: custody API unavailable', true], ['revoked', 'grant failed: custody API unavailable', true]])

  await sleep(BASE_MS + 200)
  expect(await run()).toMatchObject({ failures: 1, backedOff: 0 })
  expect(calls).toBe(3)
  expect(alertsOf(w.wallet.id).map((a) => a.message)).toEqual([expect.stringMatching(/^2 of the wallet's sessions failed in the last hour, the latest at \d{4}-/)])
  // Three failures: twice the wait.
  await sleep(BASE_MS + 200)
  expect(await run()).toMatchObject({ backedOff: 1 })
  expect(calls).toBe(3)

  // The signer is back: once the wait is over, the wallet gets its session.
  signers.set(w.wallet.address.toLowerCase(), w.signer)
  await sleep(BASE_MS)
  expect(await run()).toMatchObject({ rotated: 1, backedOff: 0 })
  expect((await r.wallet(w.wallet.id)).status).toBe('active')
  // Raised at each retry after the second failure, it went out (to the audit trail, the webhook) once in the hour.
  expect(alertsOf(w.wallet.id).map((a) => a.message.slice(0, 2))).toEqual(['2 ', '3 '])
  expect(await r.audit(w.wallet.id, 'alert.SESSION_GRANTS_FAILING')).toHaveLength(1)
  signers.delete(w.wallet.address.toLowerCase())
}, 60_000)

it('replaces the first session the operator refuses at once, and waits before replacing the second; the held work then goes out', async () => {
  const w = await activeWallet(h, { families: familiesFor({ limitOrders: true }) })
  signers.set(w.wallet.address.toLowerCase(), w.signer)

  expect(await revokeBehindTheWorkersBack(worker.deps, w.wallet.id)).toBe(200)
  const first = await place(h, worker, w.wallet.id, { price: '1850' })
  const second = await eventually(async () => (await r.sessionsOf(w.wallet.id)).find((s) => s.id !== w.session.id && s.status === 'active'))
  expect((await openWithSession(h.db, first.id)).sessionId).toBe(second.id)
  expect((await r.session(w.session.id)).failedAt).not.toBeNull()

  // The operator revokes the replacement too: it is not replaced before the wait. The worker learns it from the
  // stream, by its SessionRevoked event or by the stream's reconnection answering SessionUnauthorized; either is a failure.
  expect(await revokeBehindTheWorkersBack(worker.deps, w.wallet.id)).toBe(200)
  await eventually(async () => (await r.session(second.id)).status === 'revoked' && (await r.wallet(w.wallet.id)).status === 'awaiting_delegation')
  expect(await r.session(second.id)).toMatchObject({ statusReason: expect.stringMatching(/^(operator event SessionRevoked|event stream answered SessionUnauthorized)/), failedAt: expect.any(Date) })
  const held = await place(h, worker, w.wallet.id, { price: '1840' })
  expect(await worker.maintainSessions(w.wallet.id)).toMatchObject({ rotated: 0, backedOff: 1 })
  expect((await r.sessionsOf(w.wallet.id)).filter((s) => s.status === 'active')).toEqual([])
  expect((await r.order(held.id)).state).not.toBe('open')

  const third = await eventually(async () => {
    await worker.maintainSessions(w.wallet.id)
    return (await r.sessionsOf(w.wallet.id)).find((s) => s.status === 'active')
  }, 3 * BASE_MS, 250)
  expect(third.id).not.toBe(second.id)
  expect(alertsOf(w.wallet.id).map((a) => a.message.slice(0, 2))).toEqual(['2 '])
  expect((await openWithSession(h.db, held.id)).sessionId).toBe(third.id)
  signers.delete(w.wallet.address.toLowerCase())
}, 60_000)

it('backs off a scope change whose grant keeps failing, as any grant; the held modify goes out once the signer is back', async () => {
  const w = await activeWallet(h, { families: familiesFor({ limitOrders: true, killSwitch: true }) })
  const order = await place(h, worker, w.wallet.id)
  await settled(h.db, order.id, 'open')
  let calls = 0
  signers.set(w.wallet.address.toLowerCase(), { kind: 'privy', address: w.signer.address, signDelegation: async () => { calls++; throw new Error('custody API unavailable') }, signRevocation: async () => { throw new Error('custody API unavailable') } })
  const run = () => worker.maintainSessions(w.wallet.id)

  const { outboxId } = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1895', size: '0.1' })
  await worker.relay()
  // Held, and the maintenance run it asks for fails once.
  await eventually(async () => (await r.outboxOf(order.id)).find((o) => o.id === outboxId)?.status === 'held')
  await eventually(async () => (await r.sessionsOf(w.wallet.id)).some((s) => s.failedAt !== null))
  expect(calls).toBe(1)
  expect(await run()).toMatchObject({ failures: 1, backedOff: 0 })
  expect(await run()).toMatchObject({ failures: 0, backedOff: 1 })
  expect(calls).toBe(2)
  expect((await r.sessionsOf(w.wallet.id)).filter((s) => s.status === 'active').map((s) => s.id)).toEqual([w.session.id])
  expect((await r.outboxOf(order.id)).find((o) => o.id === outboxId)?.status).toBe('held')

  signers.set(w.wallet.address.toLowerCase(), w.signer)
  await sleep(BASE_MS + 200)
  expect(await run()).toMatchObject({ rotated: 1, backedOff: 0 })
  const next = (await r.sessionsOf(w.wallet.id)).find((s) => s.status === 'active')!
  expect(next.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
  await eventually(async () => (await r.outboxOf(order.id)).find((o) => o.id === outboxId)?.status === 'done')
  expect((await r.answeredRequestsOf(order.id)).map((q) => [q.family, q.status, q.sessionId])).toEqual([['Order', 'accepted', w.session.id], ['ModifyOrder', 'accepted', next.id]])
  signers.delete(w.wallet.address.toLowerCase())
}, 60_000)

it('asks a wallet signer that cannot sign a quarantined session\'s revocation again only after a wait, and alerts that the delegation is still live', async () => {
  const w = await activeWallet(h)
  const replaced = w.session
  // The operator answered SignerMismatch to the session, which a new one replaced.
  await grant(h, w)
  await h.db.update(sessions).set({ status: 'quarantined', statusReason: 'operator answered SignerMismatch', revokedAt: null }).where(eq(sessions.id, replaced.id))
  worker.deps.sessions.forget(replaced.id)
  let asked = 0
  signers.set(w.wallet.address.toLowerCase(), { kind: 'privy', address: w.signer.address, signDelegation: (typedData) => w.signer.signDelegation(typedData),
    signRevocation: async () => { asked++; throw new Error('custody API unavailable') } })
  const run = () => worker.maintainSessions(w.wallet.id)

  expect(await run()).toMatchObject({ revoked: 0, failures: 1 })
  // Not asked again on every run (every 10 s) while the custody API is down.
  expect(await run()).toMatchObject({ revoked: 0, failures: 0 })
  expect(await run()).toMatchObject({ revoked: 0, failures: 0 })
  expect(asked).toBe(1)
  expect(alerts).toContainEqual(expect.objectContaining({ walletId: w.wallet.id, code: 'SESSION_UNREVOKED', message: expect.stringContaining('custody API unavailable') }))

  // The signer is back: once the wait is over, the delegation is revoked at the operator.
  signers.set(w.wallet.address.toLowerCase(), w.signer)
  await sleep(BASE_MS + 200)
  expect(await run()).toMatchObject({ revoked: 1, failures: 0 })
  expect(operatorDelegation(h.sandbox, replaced.delegationHash)?.revoked).toBe(true)
  expect((await r.session(replaced.id))).toMatchObject({ status: 'quarantined', revokedAt: expect.any(Date) })
  signers.delete(w.wallet.address.toLowerCase())
}, 60_000)
