/**
 * Each operator error code, provoked for real against the sandbox, and what
 * the worker does with it. The event streams are off in this file, so every
 * outcome comes from the submission path (receipts, errors, read-backs) and a
 * fill the worker has not heard of stays unknown to it until it asks.
 */
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RequestFamily } from '../../src/core/acl/actions.js'
import { SessionKey } from '../../src/keys/SessionKey.js'
import { encryptSecret } from '../../src/keys/encryptSecret.js'
import { reconcile } from '../../jobs/reconcile.js'
import { haltWallet } from '../../src/runtime/intake/killSwitch.js'
import { placeLimitOrder, type PlaceLimitOrderInput } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { sessionKeyAad } from '../../src/runtime/sessions/sealedSessionKey.js'
import { grantSession } from '../../src/runtime/sessions/grantSession.js'
import { orders, requests, sessions } from '../../src/store/schema/index.js'
import { VenueError, VenueTransportError } from '../../src/core/errors/venue.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder, operatorOrders, revokeBehindTheWorkersBack, sendWithSessionKey } from './support/operator.js'
import { rows } from './support/rows.js'
import { openWithSession } from '../lifecycle/support/lifecycle.js'

let h: Harness
let worker: RunningWorker
let db: ReturnType<typeof rows>
const alerts: { walletId: string; code: string }[] = []
const invalidated: { walletId: string; sessionId: string }[] = []

beforeAll(async () => {
  h = await createHarness()
  db = rows(h.db)
  worker = await h.startWorker({
    streams: false,
    alert: (event) => { alerts.push({ walletId: event.walletId, code: event.code }) },
    onSessionInvalid: async (walletId, sessionId) => { invalidated.push({ walletId, sessionId }) },
  })
})
afterAll(async () => { await h?.close() })

async function place(walletId: string, input: Partial<PlaceLimitOrderInput> = {}) {
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5', ...input }, new Date())
  await worker.relay()
  return order
}
/** A request body of this wallet's (the worker is shared: an earlier test's work may still be in flight). */
const ofWallet = (body: string, address: string) => (JSON.parse(body) as { message: { wallet: string } }).message.wallet.toLowerCase() === address.toLowerCase()
const settled = (orderId: string, ...states: string[]) => eventually(async () => { const o = await db.order(orderId); return states.includes(o.state) && o })
const outboxSettled = async (orderId: string) => eventually(async () => {
  const [row] = await db.outboxOf(orderId)
  return row && ['done', 'failed', 'held'].includes(row.status) && row
})
/**
 * When the transaction that wrote each of these audit entries of the wallet began (`at` defaults to
 * `now()`, its transaction's start, savepoints included): an alert written with what it reports
 * shares it, so a crash after the commit cannot lose it; one written by its own statement has a later one.
 */
async function writtenBy(walletId: string, actions: string[]): Promise<string[]> {
  const { rows: found } = await h.db.execute<{ action: string; began: string }>(sql`
    select action, to_char(at, 'YYYY-MM-DD HH24:MI:SS.US') as began from audit_log where wallet_id = ${walletId} and action in ${actions} order by action`)
  return found.map((row) => row.began)
}
async function regrant(signer: Awaited<ReturnType<Harness['wallet']>>['signer'], walletId: string, families: RequestFamily[] = ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll']) {
  return grantSession({ db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: signer, walletId, families, lifetimeSeconds: 24 * 3600, nowMs: Date.now() })
}

describe('session errors', () => {
  it('SessionUnauthorized (revoked at the operator): session revoked, work held, wallet awaiting delegation; a new session releases and completes it', async () => {
    const { wallet, signer, session } = await h.wallet()
    expect((await revokeBehindTheWorkersBack(worker.deps, wallet.id)).status).toBe(200)

    const order = await place(wallet.id)
    const held = await outboxSettled(order.id)
    expect(held.status).toBe('held')
    // Failed while active: automatic grants back off on these (sessions.failed_at).
    expect(await db.session(session.id)).toMatchObject({ status: 'revoked', failedAt: expect.any(Date) })
    expect((await db.wallet(wallet.id)).status).toBe('awaiting_delegation')
    expect((await db.order(order.id)).state).toBe('pending')
    expect(invalidated).toContainEqual({ walletId: wallet.id, sessionId: session.id })
    expect((await db.requestsOf(order.id)).map((r) => `${r.status}:${r.errorCode}`)).toEqual(['rejected:SessionUnauthorized'])
    expect(operatorOrders(h.sandbox, wallet.address)).toHaveLength(0)

    const { session: next } = await regrant(signer, wallet.id)
    await worker.relay()
    const open = await openWithSession(h.db, order.id)
    expect(open.sessionId).toBe(next.id)
    expect((await db.wallet(wallet.id)).status).toBe('active')
    expect(operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId)).toEqual([order.clientOrderId])
  })

  it('a cancel of an order whose outcome is unknown and whose placement is held for a session is held too (not retried every 250 ms), and settled once a new session lets reconciliation read the order', async () => {
    const { wallet, signer } = await h.wallet()
    expect((await revokeBehindTheWorkersBack(worker.deps, wallet.id)).status).toBe(200)
    const order = await place(wallet.id)
    expect((await outboxSettled(order.id)).status).toBe('held')
    // As after a send whose answer was lost before the session was refused.
    await h.db.update(orders).set({ state: 'unknown' }).where(eq(orders.id, order.id))
    const { outboxId } = await requestCancel(h.db, { orderId: order.id })
    await worker.relay()
    const cancel = await eventually(async () => {
      const [row] = (await db.outboxOf(order.id)).filter((r) => r.id === outboxId)
      return row?.status === 'held' && row
    })
    expect(cancel.lastError).toBe('an earlier request for this order is held')
    const job = await worker.submitQueue.getJob(outboxId)
    expect(await job?.getState()).toBe('completed')

    // The new session lets reconciliation read the order: the operator never saw it (its session
    // was refused), so it is placed again through the claim, which finds the cancel and stops it.
    await regrant(signer, wallet.id)
    await worker.relay()
    await h.db.update(requests).set({ deadline: Date.now() - 5_000 }).where(eq(requests.orderId, order.id))
    expect((await reconcile(worker.deps, { orphans: 'adopt', walletId: wallet.id, settleMs: 0 })).repairs).toBeGreaterThan(0)
    await worker.relay()
    expect((await settled(order.id, 'cancelled')).state).toBe('cancelled')
    await eventually(async () => (await db.outboxOf(order.id)).every((r) => r.status === 'done'))
  })

  it('a new session granted while refused work is being held: the work goes out under it, not stranded', async () => {
    const { wallet, signer, session } = await h.wallet()
    expect((await revokeBehindTheWorkersBack(worker.deps, wallet.id)).status).toBe(200)
    // The replacement arrives between the refusal and the hold (as an automatic rotation may).
    const hook = worker.deps.onSessionInvalid
    worker.deps.onSessionInvalid = async () => { await regrant(signer, wallet.id) }
    try {
      const order = await place(wallet.id)
      const open = await openWithSession(h.db, order.id)
      expect(open.sessionId).not.toBe(session.id)
      expect((await db.wallet(wallet.id)).status).toBe('active')
      expect((await outboxSettled(order.id)).status).toBe('done')
      expect(operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId)).toEqual([order.clientOrderId])
    } finally {
      worker.deps.onSessionInvalid = hook
    }
  })

  it('SessionAclViolation (the stored scope claims more than the delegation): never retried, order rejected, alert raised', async () => {
    const { wallet, session } = await h.wallet(['CancelOrder', 'CancelAll'])
    // The local scope check passes only because the stored scope was tampered with.
    await h.db.update(sessions).set({ aclScope: ['Order', 'CancelOrder', 'CancelAll'] }).where(eq(sessions.id, session.id))
    worker.deps.sessions.forget(session.id)

    const order = await place(wallet.id)
    const rejected = await settled(order.id, 'rejected')
    expect(rejected.rejectCode).toBe('SessionAclViolation')
    expect((await outboxSettled(order.id)).status).toBe('failed')
    expect((await db.requestsOf(order.id)).map((r) => `${r.status}:${r.errorCode}`)).toEqual(['rejected:SessionAclViolation'])
    const job = await worker.submitQueue.getJob((await db.outboxOf(order.id))[0]!.id)
    expect(await job?.getState()).toBe('completed')
    expect(alerts).toContainEqual({ walletId: wallet.id, code: 'ACL_VIOLATION' })
    // On the wallet's audit trail too (GET /v1/wallets/{id}/audit).
    const [rejectedIn, alertedIn, ...more] = await writtenBy(wallet.id, ['Order.rejected', 'alert.ACL_VIOLATION'])
    expect(more).toEqual([])
    expect(alertedIn).toBe(rejectedIn)
    expect((await db.session(session.id)).status).toBe('active')
  })

  it('refuses locally, before any network call, a family outside the session scope', async () => {
    const { wallet } = await h.wallet(['CancelOrder'])
    const order = await place(wallet.id)
    const rejected = await settled(order.id, 'rejected')
    expect(rejected.rejectCode).toBe('LOCAL.ACL_SCOPE')
    expect(await db.requestsOfWallet(wallet.id)).toHaveLength(0)
    expect((await outboxSettled(order.id)).status).toBe('failed')
    expect(await db.audit(wallet.id, 'Order.refused')).toHaveLength(1)
    expect(operatorOrders(h.sandbox, wallet.address)).toHaveLength(0)
  })

  describe('work signed again under a replacement session passes the local checks again', () => {
    /**
     * A ModifyOrder is claimed and signed under a session covering it; while it is on the wire the
     * wallet's session is replaced by one whose scope leaves ModifyOrder out, and the operator's
     * answer makes the worker sign it again. The new scope is checked before anything is signed:
     * refused locally (LOCAL.ACL_SCOPE), never sent, no ACL_VIOLATION alert (which says the scope
     * mapping is wrong).
     */
    async function modifyWhileReplaced(answer: 'NonceReused' | 'SessionUnauthorized') {
      const { wallet, signer, session } = await h.wallet()
      const order = await place(wallet.id)
      await settled(order.id, 'open')
      const spent = worker.deps.nonces.next()
      if (answer === 'NonceReused') expect((await sendWithSessionKey(worker.deps, wallet.id, 'CancelAll', { market: 'BTC-USD' }, { nonce: spent })).status).toBe(200)
      const { venue, nonces } = worker.deps
      const submit = venue.submit
      let replaced = false
      venue.submit = async (body) => {
        if (!replaced && ofWallet(body, wallet.address) && JSON.parse(body).family === 'ModifyOrder') {
          replaced = true
          if (answer === 'SessionUnauthorized') expect((await revokeBehindTheWorkersBack(worker.deps, wallet.id)).status).toBe(200)
          await regrant(signer, wallet.id, ['Order', 'CancelOrder', 'CancelAll'])
        }
        return submit(body)
      }
      let drawn = false
      if (answer === 'NonceReused') worker.deps.nonces = { next: () => (drawn ? nonces.next() : ((drawn = true), spent)) }
      try {
        const { outboxId } = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1985', size: '0.5' })
        await worker.relay()
        const work = await eventually(async () => {
          const [row] = (await db.outboxOf(order.id)).filter((r) => r.id === outboxId)
          return row && ['done', 'failed', 'held'].includes(row.status) && row
        })
        expect(work.status).toBe('failed')
        expect(work.lastError).toMatch(/^LOCAL\.ACL_SCOPE: .*does not cover ModifyOrder/)
        // The Order, then the ModifyOrder under the first session; nothing under the second.
        const sent = await db.requestsOf(order.id)
        expect(sent.map((r) => `${r.family}:${r.status}:${r.errorCode}`)).toEqual(['Order:accepted:null', `ModifyOrder:rejected:${answer}`])
        expect(sent.every((r) => r.sessionId === session.id)).toBe(true)
        expect(await db.audit(wallet.id, 'ModifyOrder.refused')).toHaveLength(1)
        expect(alerts).not.toContainEqual({ walletId: wallet.id, code: 'ACL_VIOLATION' })
        expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.revision ?? 0).toBe(0)
      } finally {
        venue.submit = submit
        worker.deps.nonces = nonces
      }
    }

    it('re-signed after NonceReused', async () => { await modifyWhileReplaced('NonceReused') })
    it('re-signed after SessionUnauthorized (the old session was revoked meanwhile)', async () => { await modifyWhileReplaced('SessionUnauthorized') })
  })

  it('SignerMismatch (the sealed key is not the delegated one): session quarantined, alert, work held until a new session', async () => {
    const { wallet, signer, session } = await h.wallet()
    const impostor = SessionKey.generate()
    const secret = impostor.exportSecretForEncryption()
    await h.db.update(sessions).set({ sealedPrivateKey: encryptSecret(h.keyring, secret, sessionKeyAad(session.id)), publicKey: impostor.publicKey })
      .where(eq(sessions.id, session.id))
    secret.fill(0)
    worker.deps.sessions.forget(session.id)

    const order = await place(wallet.id)
    expect((await outboxSettled(order.id)).status).toBe('held')
    expect(await db.session(session.id)).toMatchObject({ status: 'quarantined', failedAt: expect.any(Date) })
    expect(alerts).toContainEqual({ walletId: wallet.id, code: 'KEY_INTEGRITY' })
    const [alertedIn, quarantinedIn, ...more] = await writtenBy(wallet.id, ['alert.KEY_INTEGRITY', 'session.quarantined'])
    expect(more).toEqual([])
    expect(alertedIn).toBe(quarantinedIn)
    expect((await db.wallet(wallet.id)).status).toBe('awaiting_delegation')
    expect((await db.requestsOf(order.id)).map((r) => r.errorCode)).toEqual(['SignerMismatch'])
    expect(operatorOrders(h.sandbox, wallet.address)).toHaveLength(0)

    await regrant(signer, wallet.id)
    await worker.relay()
    await settled(order.id, 'open')
    expect(operatorOrders(h.sandbox, wallet.address)).toHaveLength(1)
  })
})

describe('retryable errors', () => {
  it('NonceReused: re-signed with a fresh nonce and accepted', async () => {
    const { wallet } = await h.wallet()
    // Another client of the same session key spent this nonce; the worker's generator then draws it.
    const spent = worker.deps.nonces.next()
    expect((await sendWithSessionKey(worker.deps, wallet.id, 'CancelAll', { market: 'BTC-USD' }, { nonce: spent })).status).toBe(200)
    const generator = worker.deps.nonces
    let repeated = false
    worker.deps.nonces = { next: () => (repeated ? generator.next() : ((repeated = true), spent)) }
    try {
      const order = await place(wallet.id)
      await settled(order.id, 'open')
      const sent = await db.requestsOf(order.id)
      expect(sent.map((r) => `${r.status}:${r.errorCode}`)).toEqual(['rejected:NonceReused', 'accepted:null'])
      expect(sent[0]!.nonce).toBe(spent)
      expect(sent[1]!.nonce).toBeGreaterThan(spent)
      expect(operatorOrders(h.sandbox, wallet.address)).toHaveLength(1)
    } finally {
      worker.deps.nonces = generator
    }
  })

  it('NonceReused answered after the kill switch tripped: the placement is not signed again, but cancelled as halted', async () => {
    const { wallet } = await h.wallet()
    const spent = worker.deps.nonces.next()
    expect((await sendWithSessionKey(worker.deps, wallet.id, 'CancelAll', { market: 'BTC-USD' }, { nonce: spent })).status).toBe(200)
    const { venue, nonces } = worker.deps
    const submit = venue.submit
    let drawn = false
    worker.deps.nonces = { next: () => (drawn ? nonces.next() : ((drawn = true), spent)) }
    // The halt lands while the placement is on the wire.
    venue.submit = async (body) => {
      if (ofWallet(body, wallet.address) && JSON.parse(body).family === 'Order') await haltWallet(h.db, { walletId: wallet.id, reason: 'stop' })
      return submit(body)
    }
    try {
      const order = await place(wallet.id)
      expect(await settled(order.id, 'cancelled')).toMatchObject({ cancelReason: 'halted' })
      expect((await db.requestsOf(order.id)).map((r) => `${r.status}:${r.errorCode}`)).toEqual(['rejected:NonceReused'])
      expect(operatorOrders(h.sandbox, wallet.address)).toHaveLength(0)
    } finally {
      venue.submit = submit
      worker.deps.nonces = nonces
    }
  })

  it('Unavailable (503) after a lost answer leaves the request unknown (the lost send may have been accepted); the resend is answered duplicate', async () => {
    const { wallet } = await h.wallet()
    const { venue } = worker.deps
    const submit = venue.submit
    const statusBeforeSend: string[] = []
    // One send at a time (a job re-run beside a slow one must not interleave these steps).
    let turn = Promise.resolve()
    venue.submit = (body) => {
      // Work an earlier test left in flight (another wallet's) goes through untouched.
      if (!ofWallet(body, wallet.address)) return submit(body)
      const send = turn.then(async () => {
        const [request] = await h.db.select({ status: requests.status }).from(requests).where(eq(requests.body, body))
        statusBeforeSend.push(request!.status)
        if (statusBeforeSend.length === 1) { await submit(body); throw new VenueTransportError('socket hang up') }
        if (statusBeforeSend.length === 2) throw new VenueError('Unavailable', 'busy', { status: 503 })
        return submit(body)
      })
      turn = send.then(() => undefined, () => undefined)
      return send
    }
    try {
      const order = await place(wallet.id)
      await settled(order.id, 'open')
      // Signed once; once the lost answer made it unknown, the 503 did not make it `signed` again.
      expect(statusBeforeSend).toEqual(['signed', 'unknown', 'unknown'])
      expect((await db.requestsOf(order.id)).map((r) => `${r.status}:${r.duplicate}:${r.errorCode}`)).toEqual(['accepted:true:Unavailable'])
      expect(operatorOrders(h.sandbox, wallet.address)).toHaveLength(1)
    } finally {
      venue.submit = submit
    }
  })

  it('Unavailable (503): the same bytes are resent until the operator is back, and the order is placed once', async () => {
    const { wallet } = await h.wallet()
    h.sandbox.setFaults({ errorRate: 1 })
    try {
      const order = await place(wallet.id)
      await eventually(async () => (await db.requestsOf(order.id)).some((r) => r.errorCode === 'Unavailable'))
      h.sandbox.setFaults({ errorRate: 0 })
      await settled(order.id, 'open')
      const sent = await db.requestsOf(order.id)
      expect(sent.map((r) => r.status)).toEqual(['accepted'])
      expect(operatorOrders(h.sandbox, wallet.address)).toHaveLength(1)
      expect((await outboxSettled(order.id)).status).toBe('done')
    } finally {
      h.sandbox.setFaults({ errorRate: 0 })
    }
  })
})

describe('a cancel of an order whose answer was lost', () => {
  it('the placement is not resent, and the order is read back at once: the cancel goes out without waiting for reconciliation', async () => {
    const { wallet } = await h.wallet()
    const { venue } = worker.deps
    const submit = venue.submit
    let placements = 0
    // The operator accepts the placement and the answer is lost; every later send of it is lost on
    // the way (the operator never sees it), so only a read-back can tell the order is live.
    venue.submit = async (body) => {
      if (!ofWallet(body, wallet.address) || JSON.parse(body).family !== 'Order') return submit(body)
      if (placements++ === 0) await submit(body)
      throw new VenueTransportError('socket hang up')
    }
    try {
      const order = await place(wallet.id)
      await settled(order.id, 'unknown')
      await requestCancel(h.db, { orderId: order.id })
      await worker.relay()
      // Reconciliation runs every minute here: this is the read-back's doing.
      expect(await settled(order.id, 'cancelled')).toMatchObject({ cancelReason: 'user' })
      expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status).toBe('cancelled')
      expect((await db.outboxOf(order.id)).map((r) => `${r.kind}:${r.status}`)).toEqual(['Order:done', 'CancelOrder:done'])
      expect((await db.requestsOf(order.id)).map((r) => `${r.family}:${r.status}`)).toEqual(['Order:unknown', 'CancelOrder:accepted'])
    } finally {
      venue.submit = submit
    }
  })
})

describe('business rejections are terminal', () => {
  const cases: { code: string; funds?: Record<string, string>; input: Partial<PlaceLimitOrderInput>; tamperPrice?: string }[] = [
    { code: 'InsufficientBalance', funds: { USD: '100' }, input: { price: '1990', size: '1' } },
    { code: 'PostOnlyWouldCross', input: { price: '2100', timeInForce: 'POST_ONLY' } },
    // Off-tick: intake refuses it, so the stored price is altered after intake.
    { code: 'InvalidRequest', input: { price: '1990' }, tamperPrice: '1990.005' },
  ]
  for (const c of cases) {
    it(`${c.code}: order rejected with the code, no retry`, async () => {
      const { wallet } = await h.wallet(undefined, c.funds)
      const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5', ...c.input }, new Date())
      if (c.tamperPrice) await h.db.update(orders).set({ price: c.tamperPrice }).where(eq(orders.id, order.id))
      await worker.relay()
      const rejected = await settled(order.id, 'rejected')
      expect(rejected.rejectCode).toBe(c.code)
      expect((await outboxSettled(order.id)).status).toBe('failed')
      expect((await db.requestsOf(order.id)).map((r) => `${r.status}:${r.errorCode}`)).toEqual([`rejected:${c.code}`])
      expect(await (await worker.submitQueue.getJob((await db.outboxOf(order.id))[0]!.id))?.getState()).toBe('completed')
      expect(operatorOrders(h.sandbox, wallet.address)).toHaveLength(0)
    })
  }
})

describe('UnknownOrder', () => {
  it('a cancel of an order that filled meanwhile reads the order back: filled, with its fill', async () => {
    const { wallet } = await h.wallet()
    const order = await place(wallet.id, { price: '1990', size: '0.5' })
    await settled(order.id, 'open')
    try {
      h.sandbox.setMark('ETH-USD', '1985')
      expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status).toBe('filled')
      await requestCancel(h.db, { orderId: order.id })
      await worker.relay()
      const filled = await settled(order.id, 'filled')
      expect(Number(filled.filled)).toBe(0.5)
      expect(Number(filled.averagePrice)).toBe(1990)
      expect(await db.fillsOf(order.id)).toHaveLength(1)
      const cancel = (await db.requestsOf(order.id)).filter((r) => r.family === 'CancelOrder')
      expect(cancel.map((r) => `${r.status}:${r.errorCode}`)).toEqual(['rejected:UnknownOrder'])
      await eventually(async () => (await db.outboxOf(order.id)).every((r) => r.status === 'done'))
    } finally {
      h.sandbox.setMark('ETH-USD', '2000')
    }
  })
})
