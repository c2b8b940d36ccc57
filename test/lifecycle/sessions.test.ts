/**
 * The session lifecycle against the sandbox: the scope a grant asks for, the
 * pre-live checks, rotation before expiry while orders keep coming, the
 * operator refusing a session behind the worker's back, and a compromise.
 * The worker talks to the sandbox through a gate, so a test can keep a signed
 * request on the wire while sessions change under it.
 */
import { eq } from 'drizzle-orm'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { familiesFor } from '../../src/core/acl/familiesFor.js'
import { decodeDelegatedPayload } from '../../src/core/delegation/decodeDelegatedPayload.js'
import { formatAmount, parseAmount } from '../../src/core/money/decimal.js'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { requestCancel, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { PreLiveCheckError, grantSession } from '../../src/runtime/sessions/grantSession.js'
import { SessionKey } from '../../src/keys/SessionKey.js'
import { encryptSecret } from '../../src/keys/encryptSecret.js'
import { sessionKeyAad } from '../../src/runtime/sessions/sealedSessionKey.js'
import { LocalWalletSigner } from '../../src/signers/LocalWalletSigner.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import { type OrderRow, sessions } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { type GateProxy, type WireRequest, startGateProxy } from './support/gateProxy.js'
import {
  activeWallet, allFamilies, bareWallet, eventually, fromWallet, grant, openWithSession, operatorDelegation, operatorOpenOrders, operatorOrder, operatorOrders, place,
  readWith, revokeBehindTheWorkersBack, rows, settled,
} from './support/lifecycle.js'

let h: Harness
let gate: GateProxy
let worker: RunningWorker
let r: ReturnType<typeof rows>
/** Wallet signers the worker may use to rotate, by lowercase address: only wallets a test opts in. */
const signers = new Map<string, WalletSigner>()
const alerts: { walletId: string; code: string; message: string }[] = []

beforeAll(async () => {
  // The maker takes one level of 0.2 when the mark crosses a resting order, so a test can fill one partly.
  h = await createHarness({ sandbox: { makerSize: '0.2' } })
  r = rows(h.db)
  gate = await startGateProxy(h.sandbox.url)
  worker = await h.startWorker({
    operatorUrl: gate.url,
    walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
    // Sessions granted for 2 h are due for rotation; the 7-day sessions rotation grants are not.
    rotateLeadSeconds: 3 * 3600,
    rotationGraceMs: 1_000,
    // Maintenance runs when a test (or a refused session) asks for it, not on a timer.
    maintenanceIntervalMs: 3_600_000,
    alert: (event) => { alerts.push(event) },
  })
})
afterAll(async () => {
  await h?.close()
  await gate?.close()
})

const activeSession = async (walletId: string) =>
  (await h.db.select().from(sessions).where(eq(sessions.walletId, walletId))).find((s) => s.status === 'active')
/** Matches the Order at `price` on the wire (its message carries the 18-decimal integer). */
const orderAt = (address: string, price: string) => (q: WireRequest) =>
  q.family === 'Order' && fromWallet(address)(q) && q.message.price === parseAmount('price', price).toString()

describe('granting a session', () => {
  it('asks the wallet for the narrowest scope the work needs, and Unrestricted only when asked', async () => {
    const w = await bareWallet(h)
    const limitOnly = familiesFor({ limitOrders: true })
    expect(limitOnly).toEqual(['Order', 'CancelOrder'])
    const narrow = (await grant(h, w, { families: limitOnly })).session
    expect(narrow.aclScope).toEqual(['Order', 'CancelOrder'])
    expect(decodeDelegatedPayload(narrow.delegatedPayload!).aclScope).toEqual(['Order', 'CancelOrder'])
    expect((await grant(h, w, { families: ['CancelOrder', 'Order', 'CancelOrder'] })).session.aclScope).toEqual(['Order', 'CancelOrder'])
    expect((await grant(h, w, { families: allFamilies })).session.aclScope).toEqual(allFamilies)
    const unrestricted = (await grant(h, w, { families: limitOnly, unrestricted: true })).session
    expect(decodeDelegatedPayload(unrestricted.delegatedPayload!).aclScope).toEqual(['Unrestricted'])

    // With the narrow scope, orders are placed and cancelled; a modification is refused before any request.
    await grant(h, w, { families: limitOnly })
    const order = await place(h, worker, w.wallet.id)
    await settled(h.db, order.id, 'open')
    await requestModify(h.db, worker.markets, { orderId: order.id, price: '1901', size: '0.1' })
    await requestCancel(h.db, { orderId: order.id })
    await worker.relay()
    await settled(h.db, order.id, 'cancelled')
    expect((await r.answeredRequestsOf(order.id)).map((q) => `${q.family}:${q.status}`)).toEqual(['Order:accepted', 'CancelOrder:accepted'])
    const [refused] = await r.audit(w.wallet.id, 'ModifyOrder.refused')
    expect(refused!.details).toMatchObject({ rule: 'LOCAL.ACL_SCOPE' })
  })

  it('reports every pre-live problem at once, and nothing goes live', async () => {
    const w = await activeWallet(h)
    // A custody wallet set up for another account: it answers for the address but signs with another key.
    const otherKey = LocalWalletSigner.fromPrivateKey(generatePrivateKey())
    const misconfigured: WalletSigner = { kind: 'local', address: w.signer.address, signDelegation: (typedData) => otherKey.signDelegation(typedData), signRevocation: (typedData) => otherKey.signRevocation(typedData) }
    const failure = await grantSession({
      db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: misconfigured, walletId: w.wallet.id,
      families: allFamilies, lifetimeSeconds: 600, nowMs: Date.now(),
    }).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(PreLiveCheckError)
    const { problems, code } = failure as PreLiveCheckError
    expect(code).toBe('SESSION.PRE_LIVE_FAILED')
    expect(problems).toHaveLength(2)
    expect(problems[0]).toMatch(/^expiry: only 600s left/)
    expect(problems[1]).toMatch(new RegExp(`^walletSignature: recovers to ${otherKey.address}, not the wallet ${w.signer.address}`))

    // The live probe's findings are reported together too.
    const probed = await grantSession({
      db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: w.signer, walletId: w.wallet.id,
      families: allFamilies, lifetimeSeconds: 24 * 3600, nowMs: Date.now(), probe: async () => ['probe: read refused', 'probe: CancelAll refused'],
    }).catch((error: unknown) => error)
    expect((probed as PreLiveCheckError).problems).toEqual(['probe: read refused', 'probe: CancelAll refused'])

    const all = await r.sessionsOf(w.wallet.id)
    expect(all.map((s) => s.status)).toEqual(['active', 'revoked', 'revoked'])
    expect(all[1]!.statusReason).toContain('expiry: only 600s left')
    expect(all[1]!.statusReason).toContain('walletSignature:')
    expect((await activeSession(w.wallet.id))?.id).toBe(w.session.id)
    await settled(h.db, (await place(h, worker, w.wallet.id)).id, 'open')
  })

  it('an automatic grant that finds, as it takes its slot, a session live long enough asks the wallet for nothing', async () => {
    // What a maintenance run meets when another grant (another process's, the API's) went live
    // between its reading the wallet due and its grant: the check is made again under the wallet lock.
    const w = await activeWallet(h)
    let signed = 0
    const counting: WalletSigner = { kind: 'local', address: w.signer.address, signDelegation: (typedData) => { signed++; return w.signer.signDelegation(typedData) }, signRevocation: (typedData) => w.signer.signRevocation(typedData) }
    const nowSeconds = Math.floor(h.sandbox.now() / 1000)
    const grantUnless = (unlessActiveUntil: number) => grantSession({
      db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: counting, walletId: w.wallet.id,
      families: allFamilies, lifetimeSeconds: 24 * 3600, nowMs: h.sandbox.now(), unlessActiveUntil,
    })
    const skipped = await grantUnless(nowSeconds + 3 * 3600)
    expect(skipped).toMatchObject({ granted: false, previous: [] })
    expect(skipped.session.id).toBe(w.session.id)
    expect(signed).toBe(0)
    expect((await r.sessionsOf(w.wallet.id)).map((s) => s.status)).toEqual(['active'])

    // A session expiring before the bound is replaced.
    const replaced = await grantUnless(w.session.expiryUnix + 1)
    expect(replaced.granted).toBe(true)
    expect(replaced.previous.map((s) => s.id)).toEqual([w.session.id])
    expect(signed).toBe(1)
  })
})

describe('a grant that fails on the way', () => {
  it('frees the wallet for the next grant at once when the wallet signer or the live probe throws', async () => {
    const w = await activeWallet(h)
    const grantWith = (walletSigner: WalletSigner, probe?: () => Promise<string[]>) => grantSession({
      db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner, walletId: w.wallet.id,
      families: allFamilies, lifetimeSeconds: 24 * 3600, nowMs: Date.now(), ...(probe ? { probe } : {}),
    })
    // The custody service cannot be reached, then the operator during the live probe.
    const unreachable: WalletSigner = { kind: 'local', address: w.signer.address, signDelegation: async () => { throw new Error('custody unreachable') }, signRevocation: async () => { throw new Error('custody unreachable') } }
    await expect(grantWith(unreachable)).rejects.toThrow('custody unreachable')
    await expect(grantWith(w.signer, async () => { throw new Error('operator unreachable') })).rejects.toThrow('operator unreachable')

    const { session } = await grantWith(w.signer)
    const all = await r.sessionsOf(w.wallet.id)
    expect(all.map((s) => [s.status, s.statusReason])).toEqual([
      ['rotating', `replaced by ${session.id}`],
      ['revoked', 'grant failed: custody unreachable'],
      ['revoked', 'grant failed: operator unreachable'],
      ['active', null],
    ])
    // Each failed grant is in the wallet's trail, how it ended and that it counts as a failure.
    expect((await r.audit(w.wallet.id, 'session.grantFailed')).map((a) => a.details)).toEqual([
      { sessionId: all[1]!.id, reason: 'grant failed: custody unreachable', failure: true },
      { sessionId: all[2]!.id, reason: 'grant failed: operator unreachable', failure: true },
    ])
  })

  it('revokes at the operator the delegation a grant had signed when it did not go live, once', async () => {
    const w = await activeWallet(h)
    const grantWith = (probe: () => Promise<string[]>) => grantSession({
      db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: w.signer, walletId: w.wallet.id,
      families: allFamilies, lifetimeSeconds: 24 * 3600, nowMs: h.sandbox.now(), probe,
    })
    await expect(grantWith(async () => ['probe: CancelAll refused'])).rejects.toBeInstanceOf(PreLiveCheckError)
    await expect(grantWith(async () => { throw new Error('operator unreachable') })).rejects.toThrow('operator unreachable')
    const unused = (await r.sessionsOf(w.wallet.id)).filter((s) => s.status === 'revoked')
    expect(unused.map((s) => [s.statusReason, s.revokedAt])).toEqual([['pre-live checks failed: probe: CancelAll refused', null], ['grant failed: operator unreachable', null]])
    expect((await r.audit(w.wallet.id, 'session.grantFailed')).map((a) => a.details)).toEqual(unused.map((s) => ({ sessionId: s.id, reason: s.statusReason, failure: true })))
    // Signed by the wallet, so good at the operator for whoever holds the session key.
    for (const session of unused) expect(await readWith(h, session)).toBe(200)

    expect(await worker.maintainSessions(w.wallet.id)).toMatchObject({ revoked: 2, failures: 0 })
    for (const session of unused) {
      expect(await readWith(h, session)).toBe(401)
      expect(operatorDelegation(h.sandbox, session.delegationHash)?.revoked).toBe(true)
    }
    const after = (await r.sessionsOf(w.wallet.id)).filter((s) => s.status === 'revoked')
    expect(after.map((s) => s.statusReason)).toEqual(unused.map((s) => s.statusReason))
    expect(after.every((s) => s.revokedAt !== null)).toBe(true)
    // Each once, in whatever order the run took them.
    expect((await r.audit(w.wallet.id, 'session.revoked')).map((a) => (a.details as { sessionId: string }).sessionId).sort()).toEqual(unused.map((s) => s.id).sort())
    // Once: the next run finds nothing to revoke, and the active session is untouched.
    expect(await worker.maintainSessions(w.wallet.id)).toMatchObject({ revoked: 0, failures: 0 })
    expect((await activeSession(w.wallet.id))?.id).toBe(w.session.id)
    expect(await readWith(h, (await activeSession(w.wallet.id))!)).toBe(200)
  })
})

describe('rotation', () => {
  it('rotates before expiry with no failed order across the switch, and re-places the old session\'s orders under the new one', async () => {
    const w = await activeWallet(h, { lifetimeSeconds: 2 * 3600 })
    const old = w.session
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    // The second is good till an hour from now: its cancel is a BullMQ delayed job from the start.
    const resting = [await place(h, worker, w.wallet.id, { price: '1700' }), await place(h, worker, w.wallet.id, { price: '1701', goodTill: new Date(h.sandbox.now() + 3_600_000) })]
    for (const order of resting) await settled(h.db, order.id, 'open')
    expect((await r.outboxOf(resting[1]!.id)).map((o) => [o.kind, o.status])).toEqual([['Order', 'done'], ['CancelOrder', 'enqueued']])

    // One Order signed with the old key stays on the wire until after the old session is revoked.
    const wire = gate.hold(orderAt(w.wallet.address, '1777.77'))
    const onTheWire = await place(h, worker, w.wallet.id, { price: '1777.77' })
    expect((await wire.arrived).message.delegation).toBe(old.delegationHash)

    // Orders keep coming while maintenance rotates the session.
    const placed: OrderRow[] = []
    const placing = (async () => {
      for (let i = 0; i < 12; i++) {
        placed.push(await place(h, worker, w.wallet.id, { price: formatAmount(parseAmount('p', '1800') + BigInt(i) * 10n ** 18n) }))
        await new Promise((resolve) => setTimeout(resolve, 15))
      }
    })()
    await new Promise((resolve) => setTimeout(resolve, 40))
    expect((await worker.maintainSessions(w.wallet.id)).rotated).toBe(1)
    await placing
    const next = (await activeSession(w.wallet.id))!
    expect(next.id).not.toBe(old.id)
    expect(next.aclScope).toEqual(old.aclScope)
    expect((await r.session(old.id)).status).toBe('rotating')
    for (const order of placed) await settled(h.db, order.id, 'open')

    // After the grace period the old session is revoked at the operator, which cancels its orders there.
    await eventually(async () => { await worker.maintainSessions(w.wallet.id); return (await r.session(old.id)).status === 'revoked' }, 10_000, 250)
    expect(operatorDelegation(h.sandbox, old.delegationHash)?.revoked).toBe(true)
    wire.release()

    // Nothing is left behind: every intent has one open order, under the new session, at the operator.
    const intents = await r.intentsOf(w.wallet.id)
    expect(intents).toHaveLength(resting.length + 1 + placed.length)
    const live = await eventually(async () => {
      const open = (await r.ordersOf(w.wallet.id)).filter((o) => o.state === 'open')
      return open.length === intents.length && open.every((o) => o.sessionId === next.id) && open
    })
    expect(new Set(live.map((o) => o.intentId)).size).toBe(intents.length)
    const atOperator = operatorOpenOrders(h.sandbox, w.wallet.address)
    expect(atOperator.map((o) => o.clientOrderId).sort()).toEqual(live.map((o) => o.clientOrderId.toLowerCase()).sort())
    expect(atOperator.every((o) => o.delegationHash === next.delegationHash)).toBe(true)
    // The old session's resting orders were cancelled by its revocation, and only those.
    const ended = (await r.ordersOf(w.wallet.id)).filter((o) => o.state !== 'open')
    expect(ended.every((o) => o.state === 'cancelled' && o.cancelReason === 'sessionRevoked' && o.sessionId === old.id)).toBe(true)
    expect(ended.map((o) => o.id)).toEqual(expect.arrayContaining(resting.map((o) => o.id)))
    // Each names its replacement: the open order of the same intent.
    expect(ended.map((o) => live.find((l) => l.id === o.replacedBy)?.intentId)).toEqual(ended.map((o) => o.intentId))
    // The good-till cancel moved to the replacement, still waiting for its time.
    const goodTill = (await r.outboxOfWallet(w.wallet.id)).filter((o) => o.kind === 'CancelOrder')
    expect(goodTill.map((o) => [o.orderId, o.status])).toEqual([[ended.find((o) => o.id === resting[1]!.id)!.replacedBy, 'enqueued']])

    // Every request was accepted, but for the one on the wire when its session was revoked, which went out again under the new one.
    const sent = await r.answeredRequestsOfWallet(w.wallet.id)
    expect(sent.filter((q) => q.status !== 'accepted').map((q) => [q.orderId, q.errorCode, q.sessionId])).toEqual([[onTheWire.id, 'SessionUnauthorized', old.id]])
    expect((await r.answeredRequestsOf(onTheWire.id)).map((q) => [q.status, q.sessionId])).toEqual([['rejected', old.id], ['accepted', next.id]])
    expect((await r.outboxOfWallet(w.wallet.id)).filter((o) => o.status !== 'done' && o.kind !== 'CancelOrder')).toEqual([])
    expect((await r.wallet(w.wallet.id)).status).toBe('active')
    signers.delete(w.wallet.address.toLowerCase())
  })

  it('moves the modifies queued for an order the rotation cancelled to its replacement, each size less what the old order filled; the last asked wins there', async () => {
    const w = await activeWallet(h, { lifetimeSeconds: 2 * 3600 })
    const old = w.session
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    const num = (value: string) => Number(value)
    // A resting sell, 0.2 of it filled when the mark reaches it (buys elsewhere in this file rest below the mark).
    const first = await place(h, worker, w.wallet.id, { side: 'sell', price: '2300', size: '1' })
    await settled(h.db, first.id, 'open')
    try {
      expect(h.sandbox.setMark('ETH-USD', '2300')).toBe(1)
      await eventually(async () => num((await r.order(first.id)).filled) === 0.2)
    } finally {
      h.sandbox.setMark('ETH-USD', '2000')
    }

    // One modify is signed under the old session and held on the wire; a second waits behind it.
    const wire = gate.hold((q) => q.family === 'ModifyOrder' && fromWallet(w.wallet.address)(q))
    await requestModify(h.db, worker.markets, { orderId: first.id, price: '2310', size: '0.9' })
    await worker.relay()
    expect((await wire.arrived).message.delegation).toBe(old.delegationHash)
    await requestModify(h.db, worker.markets, { orderId: first.id, price: '2320', size: '0.8' })
    await worker.relay()

    // Rotation: revoking the old session cancels the order at the operator, and it is placed again for the 0.8 not filled.
    expect((await worker.maintainSessions(w.wallet.id)).rotated).toBe(1)
    const next = (await activeSession(w.wallet.id))!
    await eventually(async () => { await worker.maintainSessions(w.wallet.id); return (await r.session(old.id)).status === 'revoked' }, 10_000, 250)
    const replacedBy = await eventually(async () => (await r.order(first.id)).replacedBy)
    expect((await r.order(first.id)).cancelReason).toBe('sessionRevoked')
    wire.release()

    // Both modifies move to the replacement, each total size less the 0.2 the first order filled; the
    // first, which never took effect, is superseded there by the second (the last asked wins), which applies.
    const final = await eventually(async () => { const o = await r.order(replacedBy); return o.venueRevision === 1 && o })
    expect([num(final.price), num(final.size), num(final.filled), final.state, final.sessionId]).toEqual([2320, 0.6, 0, 'open', next.id])
    expect(operatorOrder(h.sandbox, w.wallet.address, final.clientOrderId)).toMatchObject({ price: 2320n * 10n ** 18n, size: 6n * 10n ** 17n, revision: 1, delegationHash: next.delegationHash })
    const modifies = await eventually(async () => { const rows = (await r.outboxOfWallet(w.wallet.id)).filter((o) => o.kind === 'ModifyOrder'); return rows.every((o) => o.status === 'done') && rows })
    expect(modifies.map((o) => [o.orderId, o.payload.size])).toEqual([[replacedBy, '0.7'], [replacedBy, '0.6']])
    expect(modifies[0]!.lastError).toMatch(/^superseded by a later modification of this order/)
    expect((await r.answeredRequestsOf(replacedBy)).filter((q) => q.family === 'ModifyOrder').map((q) => [q.status, q.sessionId])).toEqual([['accepted', next.id]])
    expect((await r.audit(w.wallet.id, 'ModifyOrder.followed')).map((a) => a.details)).toEqual(modifies.map((o) => ({ outboxId: o.id, from: first.id, to: replacedBy, size: o.payload.size })))
    signers.delete(w.wallet.address.toLowerCase())
  })

  it('replaces a session the operator refused (revoked behind the worker\'s back) with one of the same scope, and resumes the work', async () => {
    const w = await activeWallet(h, { families: familiesFor({ limitOrders: true }) })
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    const resting = await place(h, worker, w.wallet.id)
    await settled(h.db, resting.id, 'open')

    expect(await revokeBehindTheWorkersBack(worker.deps, w.wallet.id)).toBe(200)
    const after = await place(h, worker, w.wallet.id, { price: '1850' })

    const next = await eventually(async () => { const s = await activeSession(w.wallet.id); return s && s.id !== w.session.id && s })
    expect(next.aclScope).toEqual(['Order', 'CancelOrder'])
    expect((await r.session(w.session.id)).status).toBe('revoked')
    expect((await openWithSession(h.db, after.id)).sessionId).toBe(next.id)
    expect((await settled(h.db, resting.id, 'cancelled')).cancelReason).toBe('sessionRevoked')
    const replacement = await eventually(async () => (await r.ordersOfIntent(resting.intentId!)).find((o) => o.id !== resting.id && o.state === 'open' && o.sessionId === next.id))
    expect(operatorOrder(h.sandbox, w.wallet.address, replacement.clientOrderId)?.delegationHash).toBe(next.delegationHash)
    expect((await r.answeredRequestsOfWallet(w.wallet.id)).filter((q) => q.status === 'accepted' && q.sessionId !== w.session.id)).toHaveLength(2)
    await eventually(async () => (await r.outboxOfWallet(w.wallet.id)).every((o) => o.status === 'done'))
    expect((await r.wallet(w.wallet.id)).status).toBe('active')
    signers.delete(w.wallet.address.toLowerCase())
  })
})

describe('a session quarantined for SignerMismatch', () => {
  /** Swaps the sealed session key for another, as a tampered or mixed-up store would: its signatures no longer recover to the delegated key. */
  async function tamperSessionKey(sessionId: string) {
    const impostor = SessionKey.generate()
    const secret = impostor.exportSecretForEncryption()
    await h.db.update(sessions).set({ sealedPrivateKey: encryptSecret(h.keyring, secret, sessionKeyAad(sessionId)), publicKey: impostor.publicKey }).where(eq(sessions.id, sessionId))
    secret.fill(0)
    worker.deps.sessions.forget(sessionId)
  }

  it('is revoked at the operator with the wallet\'s signature, and its orders there are placed again under the new session', async () => {
    const w = await activeWallet(h)
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    const resting = await place(h, worker, w.wallet.id)
    await settled(h.db, resting.id, 'open')

    await tamperSessionKey(w.session.id)
    const after = await place(h, worker, w.wallet.id, { price: '1850' })
    const next = await eventually(async () => { const s = await activeSession(w.wallet.id); return s && s.id !== w.session.id && s })
    expect((await r.session(w.session.id)).status).toBe('quarantined')
    expect((await openWithSession(h.db, after.id)).sessionId).toBe(next.id)

    // Its delegation, which the wallet signed, no longer works at the operator: the key is in doubt.
    await eventually(async () => { await worker.maintainSessions(w.wallet.id); return operatorDelegation(h.sandbox, w.session.delegationHash)?.revoked }, 10_000, 250)
    const quarantined = await r.session(w.session.id)
    expect([quarantined.status, quarantined.revokedAt]).toEqual(['quarantined', expect.any(Date)])
    expect((await settled(h.db, resting.id, 'cancelled')).cancelReason).toBe('sessionRevoked')
    const replacement = await eventually(async () => (await r.ordersOfIntent(resting.intentId!)).find((o) => o.id !== resting.id && o.state === 'open' && o.sessionId === next.id))
    expect(operatorOrder(h.sandbox, w.wallet.address, replacement.clientOrderId)?.delegationHash).toBe(next.delegationHash)
    expect(operatorOpenOrders(h.sandbox, w.wallet.address).map((o) => o.clientOrderId).sort())
      .toEqual([after.clientOrderId.toLowerCase(), replacement.clientOrderId.toLowerCase()].sort())
    // Once: the next run has nothing to revoke.
    expect(await worker.maintainSessions(w.wallet.id)).toMatchObject({ revoked: 0, failures: 0 })
    signers.delete(w.wallet.address.toLowerCase())
  })

  it('without a wallet signer, alerts that its delegation is still live at the operator', async () => {
    const w = await activeWallet(h)
    const resting = await place(h, worker, w.wallet.id)
    await settled(h.db, resting.id, 'open')
    await tamperSessionKey(w.session.id)
    const after = await place(h, worker, w.wallet.id, { price: '1850' })
    await eventually(async () => (await r.session(w.session.id)).status === 'quarantined')
    await eventually(async () => (await r.outboxOf(after.id))[0]?.status === 'held')

    await worker.maintainSessions(w.wallet.id)
    expect(alerts).toContainEqual(expect.objectContaining({ walletId: w.wallet.id, code: 'SESSION_UNREVOKED', message: expect.stringContaining('still live at the operator') }))
    expect(operatorDelegation(h.sandbox, w.session.delegationHash)?.revoked).toBe(false)
    expect((await r.session(w.session.id)).revokedAt).toBeNull()
  })
})

describe('session maintenance', () => {
  it('rotates only the wallet it is asked for, never a halted one, and re-places resting POST_ONLY orders as GTC ones', async () => {
    const a = await activeWallet(h, { lifetimeSeconds: 2 * 3600 })
    const b = await activeWallet(h, { lifetimeSeconds: 2 * 3600 })
    for (const w of [a, b]) signers.set(w.wallet.address.toLowerCase(), w.signer)
    const postOnly = await place(h, worker, a.wallet.id, { price: '1700', timeInForce: 'POST_ONLY' })
    await settled(h.db, postOnly.id, 'open')

    // Both are due; asked for a, it rotates a alone.
    expect((await worker.maintainSessions(a.wallet.id)).rotated).toBe(1)
    expect((await activeSession(b.wallet.id))!.id).toBe(b.session.id)
    // b is halted: its wallet is asked for nothing, though its session is due.
    await haltWallet(h.db, { walletId: b.wallet.id, reason: 'stop' })
    expect((await worker.maintainSessions(b.wallet.id)).rotated).toBe(0)
    expect((await r.sessionsOf(b.wallet.id)).map((s) => [s.id, s.status])).toEqual([[b.session.id, 'active']])

    // a's old session is revoked after the grace period, which cancels its orders at the operator: the POST_ONLY one is placed again.
    await eventually(async () => { await worker.maintainSessions(a.wallet.id); return (await r.session(a.session.id)).status === 'revoked' }, 10_000, 250)
    const ended = await eventually(async () => { const o = await r.order(postOnly.id); return o.replacedBy ? o : undefined })
    expect(ended).toMatchObject({ state: 'cancelled', cancelReason: 'sessionRevoked' })
    const replacement = await settled(h.db, ended.replacedBy!, 'open')
    expect(replacement).toMatchObject({ timeInForce: 2, price: postOnly.price, size: postOnly.size })
    expect(operatorOpenOrders(h.sandbox, a.wallet.address).map((o) => o.clientOrderId)).toEqual([replacement.clientOrderId.toLowerCase()])
    for (const w of [a, b]) signers.delete(w.wallet.address.toLowerCase())
  })
})

describe('the scope and lifetime maintenance asks for', () => {
  it("grants a wallet's first session the narrowest default scope, covering the work already queued for it", async () => {
    const plain = await bareWallet(h)
    const modifying = await bareWallet(h)
    for (const w of [plain, modifying]) signers.set(w.wallet.address.toLowerCase(), w.signer)
    // An order and a change of it, queued while the wallet waits for its first session.
    const order = await place(h, worker, modifying.wallet.id)
    await requestModify(h.db, worker.markets, { orderId: order.id, price: '1890', size: '0.1' })

    expect((await worker.maintainSessions(plain.wallet.id)).rotated).toBe(1)
    expect((await worker.maintainSessions(modifying.wallet.id)).rotated).toBe(1)
    expect((await activeSession(plain.wallet.id))!.aclScope).toEqual(['Order', 'CancelOrder', 'CancelAll'])
    expect((await activeSession(modifying.wallet.id))!.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
    // The held work goes out under it, the modification included.
    await eventually(async () => { const o = await r.order(order.id); return o.state === 'open' && Number(o.price) === 1890 })
    for (const w of [plain, modifying]) signers.delete(w.wallet.address.toLowerCase())
  })

  it('rotates a session into one of the lifetime it was granted for, at least twice the rotation lead', async () => {
    // The worker here rotates 3 h before expiry; the configured lifetime (7 days) is for first sessions.
    const day = await activeWallet(h, { lifetimeSeconds: 24 * 3600 })
    const short = await activeWallet(h, { lifetimeSeconds: 2 * 3600 })
    for (const w of [day, short]) signers.set(w.wallet.address.toLowerCase(), w.signer)
    expect((await r.session(day.session.id)).lifetimeSeconds).toBe(24 * 3600)
    // The day-long session is due once it has less than the lead left.
    const soon = Math.floor(h.sandbox.now() / 1000) + 2 * 3600
    await h.db.update(sessions).set({ expiry: new Date(soon * 1000), expiryUnix: soon }).where(eq(sessions.id, day.session.id))

    for (const w of [day, short]) expect((await worker.maintainSessions(w.wallet.id)).rotated).toBe(1)
    const lifetimeLeft = async (walletId: string) => (await activeSession(walletId))!.expiryUnix - Math.floor(h.sandbox.now() / 1000)
    expect(await lifetimeLeft(day.wallet.id)).toBeGreaterThan(24 * 3600 - 60)
    expect(await lifetimeLeft(day.wallet.id)).toBeLessThanOrEqual(24 * 3600)
    // 2 h is less than twice the lead: its replacement gets 6 h, and is not due at once.
    expect(await lifetimeLeft(short.wallet.id)).toBeGreaterThan(6 * 3600 - 60)
    expect(await lifetimeLeft(short.wallet.id)).toBeLessThanOrEqual(6 * 3600)
    for (const w of [day, short]) expect((await worker.maintainSessions(w.wallet.id)).rotated).toBe(0)
    for (const w of [day, short]) signers.delete(w.wallet.address.toLowerCase())
  })
})

describe('work the active session does not cover', () => {
  /** The order's work `outboxId` once done or failed. */
  const workSettled = (orderId: string, outboxId: string, timeoutMs?: number) => eventually(async () => {
    const row = (await r.outboxOf(orderId)).find((o) => o.id === outboxId)
    return row && ['done', 'failed'].includes(row.status) && row
  }, timeoutMs)

  it('with a wallet signer: held, the session rotated to the narrowest scope adding the family, and sent under the new session', async () => {
    const w = await activeWallet(h, { families: familiesFor({ limitOrders: true, killSwitch: true }) })
    const old = w.session
    expect(old.aclScope).toEqual(['Order', 'CancelOrder', 'CancelAll'])
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    const order = await place(h, worker, w.wallet.id)
    await settled(h.db, order.id, 'open')

    // The modify is not covered: it waits, and the rotation it asks for is run (no maintenance run is called here).
    const { outboxId } = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1895', size: '0.1' })
    await worker.relay()
    const work = await workSettled(order.id, outboxId, 15_000)
    expect({ status: work.status, lastError: work.lastError }).toMatchObject({ status: 'done' })
    const next = (await activeSession(w.wallet.id))!
    expect(next.id).not.toBe(old.id)
    expect(next.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
    expect(decodeDelegatedPayload(next.delegatedPayload!).aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
    expect((await r.answeredRequestsOf(order.id)).map((q) => [q.family, q.status, q.sessionId])).toEqual([['Order', 'accepted', old.id], ['ModifyOrder', 'accepted', next.id]])
    expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ price: 1895n * 10n ** 18n, revision: 1 })
    expect(await r.audit(w.wallet.id, 'ModifyOrder.refused')).toHaveLength(0)
    // The wallet's other work was never stopped: it stayed active.
    expect((await r.wallet(w.wallet.id)).status).toBe('active')

    // The old session is rotated out as in any rotation: revoked at the operator after the grace period.
    expect((await r.session(old.id)).status).toBe('rotating')
    await eventually(async () => { await worker.maintainSessions(w.wallet.id); return (await r.session(old.id)).status === 'revoked' }, 10_000, 250)
    expect(operatorDelegation(h.sandbox, old.delegationHash)?.revoked).toBe(true)
    // Its resting order is placed again, as modified, under the new session.
    const replacedBy = await eventually(async () => (await r.order(order.id)).replacedBy)
    const replacement = await openWithSession(h.db, replacedBy)
    expect([Number(replacement.price), replacement.sessionId]).toEqual([1895, next.id])
    // One rotation, not one per maintenance run.
    expect((await r.sessionsOf(w.wallet.id)).map((s) => s.status)).toEqual(['revoked', 'active'])
    signers.delete(w.wallet.address.toLowerCase())
  })

  it('while the modify waits for the scope change, the wallet\'s covered work goes on and a cancel of the order is not held behind it', async () => {
    const w = await activeWallet(h, { families: familiesFor({ limitOrders: true, killSwitch: true }) })
    // The wallet signs the new delegation only when the test lets it.
    let sign!: () => void
    const signed = new Promise<void>((resolve) => { sign = resolve })
    let asked = 0
    signers.set(w.wallet.address.toLowerCase(), { kind: 'local', address: w.signer.address, signDelegation: async (typedData) => { asked++; await signed; return w.signer.signDelegation(typedData) }, signRevocation: (typedData) => w.signer.signRevocation(typedData) })
    const order = await place(h, worker, w.wallet.id)
    await settled(h.db, order.id, 'open')
    const { outboxId } = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1895', size: '0.1' })
    await worker.relay()
    const held = await eventually(async () => { const row = (await r.outboxOf(order.id)).find((o) => o.id === outboxId); return row?.status === 'held' && row })
    expect(held.lastError).toMatch(/covers ModifyOrder/)
    await eventually(async () => asked === 1)
    expect((await r.wallet(w.wallet.id)).status).toBe('active')

    // Covered work goes out under the current session meanwhile, and the cancel does not wait for the held modify.
    const other = await place(h, worker, w.wallet.id, { price: '1880' })
    expect((await openWithSession(h.db, other.id)).sessionId).toBe(w.session.id)
    await requestCancel(h.db, { orderId: order.id })
    await worker.relay()
    expect((await settled(h.db, order.id, 'cancelled')).cancelReason).not.toBe('sessionRevoked')

    // The new session goes live; the modify, released, finds the order cancelled and is not applied.
    sign()
    const next = await eventually(async () => { const s = await activeSession(w.wallet.id); return s && s.id !== w.session.id && s })
    expect(next.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
    await eventually(async () => (await r.outboxOfWallet(w.wallet.id)).every((o) => o.status === 'done'))
    expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'cancelled', revision: 0 })
    expect(asked).toBe(1)
    signers.delete(w.wallet.address.toLowerCase())
  })

  it('a held modify whose order ended before the scope change was made is settled, and the scope is not widened for it', async () => {
    const w = await activeWallet(h, { families: familiesFor({ limitOrders: true, killSwitch: true }) })
    // The wallet signer is down when the modify is held: the scope change waits.
    let up = false
    let asked = 0
    signers.set(w.wallet.address.toLowerCase(), {
      kind: 'local', address: w.signer.address, signRevocation: (typedData) => w.signer.signRevocation(typedData),
      signDelegation: async (typedData) => { asked++; if (!up) throw new Error('custody API unavailable'); return w.signer.signDelegation(typedData) },
    })
    const order = await place(h, worker, w.wallet.id)
    await settled(h.db, order.id, 'open')
    const { outboxId } = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1895', size: '0.1' })
    await worker.relay()
    await eventually(async () => (await r.outboxOf(order.id)).find((o) => o.id === outboxId)?.status === 'held')
    await eventually(async () => asked >= 1)
    // The user cancels the order meanwhile: the modify has nothing left to do.
    await requestCancel(h.db, { orderId: order.id })
    await worker.relay()
    await settled(h.db, order.id, 'cancelled')
    up = true
    const before = asked
    await worker.maintainSessions(w.wallet.id)
    await worker.relay()
    const work = await workSettled(order.id, outboxId)
    expect(work).toMatchObject({ status: 'done', lastError: 'order cancelled: modification not applied' })
    expect(asked).toBe(before)
    expect((await activeSession(w.wallet.id))!.id).toBe(w.session.id)
    signers.delete(w.wallet.address.toLowerCase())
  })

  it('without a wallet signer: refused locally (LOCAL.ACL_SCOPE), naming the scope to rotate to, and the session is kept', async () => {
    const w = await activeWallet(h, { families: familiesFor({ limitOrders: true, killSwitch: true }) })
    const order = await place(h, worker, w.wallet.id)
    await settled(h.db, order.id, 'open')
    const { outboxId } = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1895', size: '0.1' })
    await worker.relay()
    const work = await workSettled(order.id, outboxId)
    expect(work.status).toBe('failed')
    expect(work.lastError).toMatch(/^LOCAL\.ACL_SCOPE: .*does not cover ModifyOrder.*rotate the session.*\[Order, ModifyOrder, CancelOrder, CancelAll\]/)
    expect(await worker.maintainSessions(w.wallet.id)).toMatchObject({ rotated: 0 })
    expect((await r.sessionsOf(w.wallet.id)).map((s) => [s.id, s.status])).toEqual([[w.session.id, 'active']])
    expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)?.revision ?? 0).toBe(0)
  })
})

describe('compromise', () => {
  it('cancels everything, revokes every session at the operator, cancels the intents, halts the wallet, alerts, and re-places nothing', async () => {
    const w = await activeWallet(h)
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    const first = await place(h, worker, w.wallet.id, { price: '1900' })
    await settled(h.db, first.id, 'open')
    const { session: current } = await grant(h, w)
    const second = await place(h, worker, w.wallet.id, { price: '1910' })
    await settled(h.db, second.id, 'open')
    expect((await r.session(w.session.id)).status).toBe('rotating')

    // A third Order is on the wire when the compromise is handled.
    const wire = gate.hold(orderAt(w.wallet.address, '1920'))
    const third = await place(h, worker, w.wallet.id, { price: '1920' })
    await wire.arrived

    expect(await worker.compromise(w.wallet.id, 'session key found in a log')).toEqual({ revoked: 2 })
    wire.release()

    expect(alerts).toContainEqual(expect.objectContaining({ walletId: w.wallet.id, code: 'SESSION_COMPROMISE' }))
    const wallet = await r.wallet(w.wallet.id)
    expect([wallet.status, wallet.haltedReason]).toEqual(['halted', 'compromise: session key found in a log'])
    for (const session of [w.session, current]) {
      expect((await r.session(session.id)).status).toBe('revoked')
      expect(operatorDelegation(h.sandbox, session.delegationHash)?.revoked).toBe(true)
    }
    for (const order of [first, second]) expect((await settled(h.db, order.id, 'cancelled')).cancelReason).toBe('cancelAll')
    // Sent once, at once, while a session could still sign it.
    expect((await r.answeredRequestsOfWallet(w.wallet.id)).filter((q) => q.family === 'CancelAll').map((q) => [q.status, q.sessionId])).toEqual([['accepted', current.id]])
    expect((await r.intentsOf(w.wallet.id)).map((i) => i.status)).toEqual(['cancelled', 'cancelled', 'cancelled'])
    // The Order on the wire reached a revoked delegation: refused, and its work waits, halted.
    await eventually(async () => (await r.outboxOf(third.id))[0]?.status === 'held')
    expect((await r.requestsOf(third.id)).map((q) => q.errorCode)).toEqual(['SessionUnauthorized'])
    expect(operatorOpenOrders(h.sandbox, w.wallet.address)).toEqual([])

    // Nothing is re-placed: not by the revocation events, and not once a person resumes the wallet with a new delegation.
    expect(await resumeWallet(h.db, { walletId: w.wallet.id })).toEqual({ status: 'awaiting_delegation' })
    await grant(h, w)
    await worker.relay()
    const dropped = await settled(h.db, third.id, 'cancelled')
    expect(dropped.cancelReason).toBe('intentCancelled')
    await eventually(async () => (await r.outboxOfWallet(w.wallet.id)).every((o) => o.status === 'done'))
    expect(await r.ordersOf(w.wallet.id)).toHaveLength(3)
    expect(operatorOrders(h.sandbox, w.wallet.address).map((o) => [o.clientOrderId, o.status]))
      .toEqual([[first.clientOrderId.toLowerCase(), 'cancelled'], [second.clientOrderId.toLowerCase(), 'cancelled']])
    expect((await r.requestsOf(third.id)).map((q) => q.status)).toEqual(['rejected'])
    // A wallet signer was at hand all along, yet no session was granted but the one a person asked for.
    expect((await r.sessionsOf(w.wallet.id)).map((s) => s.status)).toEqual(['revoked', 'revoked', 'active'])
    signers.delete(w.wallet.address.toLowerCase())
  })

  it('revokes a quarantined session still live at the operator with the wallet\'s signature', async () => {
    const w = await activeWallet(h)
    const resting = await place(h, worker, w.wallet.id)
    await settled(h.db, resting.id, 'open')
    const impostor = SessionKey.generate()
    const secret = impostor.exportSecretForEncryption()
    await h.db.update(sessions).set({ sealedPrivateKey: encryptSecret(h.keyring, secret, sessionKeyAad(w.session.id)), publicKey: impostor.publicKey }).where(eq(sessions.id, w.session.id))
    secret.fill(0)
    worker.deps.sessions.forget(w.session.id)
    const after = await place(h, worker, w.wallet.id, { price: '1850' })
    await eventually(async () => (await r.outboxOf(after.id))[0]?.status === 'held')
    expect((await r.session(w.session.id)).status).toBe('quarantined')
    // The maintenance run the refusal asked for has found no wallet signer to revoke it with.
    await eventually(async () => alerts.some((a) => a.walletId === w.wallet.id && a.code === 'SESSION_UNREVOKED'))

    signers.set(w.wallet.address.toLowerCase(), w.signer)
    expect(await worker.compromise(w.wallet.id, 'sealed key tampered with')).toEqual({ revoked: 1 })
    signers.delete(w.wallet.address.toLowerCase())
    expect(operatorDelegation(h.sandbox, w.session.delegationHash)?.revoked).toBe(true)
    expect((await r.session(w.session.id)).revokedAt).not.toBeNull()
    expect(operatorOrder(h.sandbox, w.wallet.address, resting.clientOrderId)?.status).toBe('cancelled')
    expect(operatorOpenOrders(h.sandbox, w.wallet.address)).toEqual([])
  })

  it('ends a grant still waiting for the wallet\'s signature: it never goes live', async () => {
    const w = await activeWallet(h)
    let sign!: () => void
    const signed = new Promise<void>((resolve) => { sign = resolve })
    const slow: WalletSigner = { kind: 'local', address: w.signer.address, signDelegation: async (typedData) => { await signed; return w.signer.signDelegation(typedData) }, signRevocation: (typedData) => w.signer.signRevocation(typedData) }
    const granting = grantSession({
      db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: slow, walletId: w.wallet.id, families: allFamilies, lifetimeSeconds: 24 * 3600, nowMs: Date.now(),
    }).then(() => undefined, (error: unknown) => error)
    await eventually(async () => (await r.sessionsOf(w.wallet.id)).some((s) => s.status === 'pending'))
    expect(await worker.compromise(w.wallet.id, 'custody breach')).toEqual({ revoked: 2 })
    sign()
    expect(await granting).toMatchObject({ code: 'SESSION.GRANT_ENDED' })
    expect((await r.sessionsOf(w.wallet.id)).map((s) => s.status)).toEqual(['revoked', 'revoked'])
    expect(await activeSession(w.wallet.id)).toBeUndefined()
    expect((await r.wallet(w.wallet.id)).status).toBe('halted')
    // The wallet signed after all: that delegation is kept on the ended row and revoked at the
    // operator by the next maintenance run, the wallet halted or not.
    const [, ended] = await r.sessionsOf(w.wallet.id)
    expect([ended!.revokedAt, ended!.delegatedPayload]).toEqual([null, expect.stringMatching(/^0x/)])
    expect(await readWith(h, ended!)).toBe(200)
    expect(await worker.maintainSessions(w.wallet.id)).toMatchObject({ revoked: 1, failures: 0 })
    expect(await readWith(h, ended!)).toBe(401)
    expect((await r.sessionsOf(w.wallet.id)).map((s) => s.status)).toEqual(['revoked', 'revoked'])
  })
})

describe('a modify caught by a rotation, and a newer modify of the replacement', () => {
  /**
   * A ModifyOrder on the wire for an order that a rotation cancels and re-places does not follow the
   * replacement when the user has since modified the replacement itself (as intake tells them to): it
   * would be sent after that newer modify, which does not wait for it, and undo it.
   */
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
})
