/**
 * Lost responses and crashes around a send. The worker persists the signed
 * bytes before sending and resends exactly those bytes; the operator answers a
 * replay with the original receipt (`duplicate: true`), so whatever happened,
 * the operator holds one order per cloid and the database agrees with it.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { submitCancelOrderSpec } from '../../jobs/submitCancelOrder.js'
import { submitModifyOrderSpec } from '../../jobs/submitModifyOrder.js'
import { submitOrderSpec } from '../../jobs/submitOrder.js'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { ensureWallet } from '../../src/runtime/wallets.js'
import { requestCancel, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import type { WorkerDeps } from '../../src/runtime/deps.js'
import { runSubmission } from '../../src/runtime/submission/runSubmission.js'
import { signAndPersist } from '../../src/runtime/submission/signAndPersist.js'
import { loadOutbox } from '../../src/store/repositories/outboxRepo.js'
import { events, orders, outbox, requests } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder, operatorOrders, postToOperator } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let db: ReturnType<typeof rows>

beforeAll(async () => {
  h = await createHarness()
  db = rows(h.db)
})
afterAll(async () => { await h?.close() })

const place = async (worker: { markets: RunningWorker['markets'] }, walletId: string, price = '1990') =>
  (await placeLimitOrder(h.db, worker.markets, { walletId, market: 'ETH-USD', side: 'buy', price, size: '0.5' }, new Date())).order
const inState = (orderId: string, state: string) => eventually(async () => { const o = await db.order(orderId); return o.state === state && o })

describe('lost responses', () => {
  let worker: RunningWorker
  beforeAll(async () => { worker = await h.startWorker() })
  afterAll(async () => { await worker.close() })

  it('an Order whose response was lost is resent and answered duplicate: one order at the operator', async () => {
    const { wallet } = await h.wallet()
    h.sandbox.setFaults({ dropAfterAccept: 1 })
    try {
      const order = await place(worker, wallet.id)
      await worker.relay()
      await inState(order.id, 'open')
      const sent = await eventually(async () => { const r = await db.requestsOf(order.id); return r[0]?.status === 'accepted' && r })
      expect(sent).toHaveLength(1)
      expect(sent[0]!.duplicate).toBe(true)
      expect(sent[0]!.errorCode).toBe('Transport')
      // sent_at is the first send's (the one the operator accepted), not the resend's.
      expect(sent[0]!.sentAt!.getTime()).toBeLessThanOrEqual((sent[0]!.receipt as { acceptedAt: number }).acceptedAt)
      expect(operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId)).toEqual([order.clientOrderId])
    } finally {
      h.sandbox.setFaults({ dropAfterAccept: 0 })
    }
  })

  it('a Modify and a Cancel whose responses were lost: each applied once, revision and price as the operator has them', async () => {
    const { wallet } = await h.wallet()
    const order = await place(worker, wallet.id)
    await worker.relay()
    await inState(order.id, 'open')
    // The stream is live, so the operator's events race the resends' duplicate receipts.
    await eventually(async () => (await h.db.select().from(events).where(eq(events.walletId, wallet.id))).length > 0)
    h.sandbox.setFaults({ dropAfterAccept: 1 })
    try {
      await requestModify(h.db, worker.markets, { orderId: order.id, price: '1980.5', size: '0.7' })
      await worker.relay()
      await eventually(async () => (await db.requestsOf(order.id)).some((r) => r.family === 'ModifyOrder' && r.status === 'accepted'))
      await requestCancel(h.db, { orderId: order.id })
      await worker.relay()
      const cancelled = await inState(order.id, 'cancelled')
      await eventually(async () => (await db.outboxOf(order.id)).every((r) => r.status === 'done'))
      const atOperator = operatorOrder(h.sandbox, wallet.address, order.clientOrderId)!
      expect(atOperator.status).toBe('cancelled')
      expect(atOperator.revision).toBe(1)
      expect(cancelled.venueRevision).toBe(atOperator.revision)
      expect(Number(cancelled.price)).toBe(1980.5)
      expect(Number(cancelled.size)).toBe(0.7)
      const sent = await db.requestsOf(order.id)
      expect(sent.map((r) => `${r.family}:${r.status}:${r.duplicate}`)).toEqual(['Order:accepted:false', 'ModifyOrder:accepted:true', 'CancelOrder:accepted:true'])
    } finally {
      h.sandbox.setFaults({ dropAfterAccept: 0 })
    }
  })
})

describe('crashes around the send', () => {
  /**
   * What a worker process does before it dies: the relay took the row, the
   * Order was claimed and its request signed and persisted; nothing more.
   */
  async function signedThenCrashed(deps: WorkerDeps, walletId: string, orderId: string, options: { now?: () => number } = {}) {
    const order = await db.order(orderId)
    const [row] = await db.outboxOf(orderId)
    const ctx = { deps, row: (await loadOutbox(h.db, row!.id))!, order }
    const claim = await h.db.transaction((tx) => submitOrderSpec.claim(tx, ctx))
    if (claim.kind !== 'proceed') throw new Error(`claim answered ${claim.kind}`)
    const session = (await deps.sessions.active(walletId))!
    // Deadlines follow the operator's clock: shift that one to sign a request that is already stale.
    const signing = options.now ? { ...deps, now: options.now, operatorNow: options.now } : deps
    return signAndPersist(signing, session, 'Order', claim.fields, { walletId, orderId, outboxId: row!.id })
  }

  /**
   * The user cancels an order whose Order request is `signed` with no outcome a stop may trust, while
   * the operator has it open; a restarted worker must not resend it, and must read the order back and
   * cancel it there. No stream: only a read-back can tell the order is live (a lease held by the dead
   * process, say).
   */
  async function cancelledAtOperatorAfterRestart(order: { id: string; clientOrderId: string }, address: string) {
    await requestCancel(h.db, { orderId: order.id })
    const worker = await h.startWorker({ streams: false })
    try {
      expect(await inState(order.id, 'cancelled')).toMatchObject({ cancelReason: 'user' })
      expect(operatorOrder(h.sandbox, address, order.clientOrderId)?.status).toBe('cancelled')
      expect((await db.requestsOf(order.id)).map((r) => `${r.family}:${r.status}`)).toEqual(['Order:signed', 'CancelOrder:accepted'])
    } finally {
      await worker.close()
    }
  }

  /** A worker that has stopped: its adapters remain, its loops and processors do not run. */
  async function deadWorker() {
    const dead = await h.startWorker({ streams: false })
    await dead.close()
    return dead
  }

  it('between sign and send: the restarted worker sends the persisted bytes; one order at the operator', async () => {
    const dead = await deadWorker()
    const { wallet } = await h.wallet()
    const order = await place(dead, wallet.id)
    const persisted = await signedThenCrashed(dead.deps, wallet.id, order.id)
    expect(operatorOrders(h.sandbox, wallet.address)).toHaveLength(0)

    const worker = await h.startWorker()
    try {
      await inState(order.id, 'open')
      const sent = await eventually(async () => { const r = await db.requestsOf(order.id); return r[0]?.status === 'accepted' && r })
      expect(sent.map((r) => r.id)).toEqual([persisted.id])
      expect(sent[0]!.body).toBe(persisted.body)
      expect(sent[0]!.duplicate).toBe(false)
      expect(operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId)).toEqual([order.clientOrderId])
    } finally {
      await worker.close()
    }
  })

  it('between send and receipt: the resend is answered duplicate and the state is consistent', async () => {
    const dead = await deadWorker()
    const { wallet } = await h.wallet()
    const order = await place(dead, wallet.id)
    const persisted = await signedThenCrashed(dead.deps, wallet.id, order.id)
    // It went out, and the process died before saving the receipt.
    const first = await postToOperator(h.sandbox.url, '/v1/requests', persisted.body)
    expect(first.status).toBe(200)
    expect(first.body.receipt?.duplicate).toBe(false)

    const worker = await h.startWorker()
    try {
      const open = await inState(order.id, 'open')
      const sent = await eventually(async () => { const r = await db.requestsOf(order.id); return r[0]?.status === 'accepted' && r })
      expect(sent.map((r) => `${r.id}:${r.duplicate}`)).toEqual([`${persisted.id}:true`])
      expect(open.venueOrderId).toBe(first.body.receipt?.orderId)
      // The send before the crash left no trace here: sent_at is the resend's, after the operator's acceptance.
      expect(sent[0]!.sentAt!.getTime()).toBeGreaterThanOrEqual((first.body.receipt as unknown as { acceptedAt: number }).acceptedAt)
      expect(operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId)).toEqual([order.clientOrderId])
      await eventually(async () => (await db.outboxOf(order.id)).every((r) => r.status === 'done'))
    } finally {
      await worker.close()
    }
  })

  it('between send and receipt, then the user cancels: the bytes are not resent, the order is read back and cancelled at the operator', async () => {
    const dead = await deadWorker()
    const { wallet } = await h.wallet()
    const order = await place(dead, wallet.id)
    const persisted = await signedThenCrashed(dead.deps, wallet.id, order.id)
    expect((await postToOperator(h.sandbox.url, '/v1/requests', persisted.body)).status).toBe(200)
    // The request is `signed` with no outcome stored: the send before the crash left no trace.
    await cancelledAtOperatorAfterRestart(order, wallet.address)
  })

  it('answered 503, then resent and accepted, and the process died before the answer; then the user cancels: read back and cancelled at the operator', async () => {
    const dead = await deadWorker()
    const { wallet } = await h.wallet()
    const order = await place(dead, wallet.id)
    const persisted = await signedThenCrashed(dead.deps, wallet.id, order.id)
    // The first send was refused 503 (stored as deliver stores it: still signed, with the code).
    await h.db.update(requests).set({ errorCode: 'Unavailable', errorMessage: 'busy', sentAt: new Date() }).where(eq(requests.id, persisted.id))
    // The retry resends the bytes; the operator takes them and the process dies before the answer.
    let landed = false
    const dying = { ...dead.deps, venue: { ...dead.deps.venue, submit: async (body: string) => { await postToOperator(h.sandbox.url, '/v1/requests', body); landed = true; return new Promise<never>(() => {}) } } }
    void runSubmission(dying, (await db.outboxOf(order.id))[0]!.id, submitOrderSpec, { delay: async () => { throw new Error('not expected') } })
    await eventually(async () => landed)
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status).toBe('open')
    await cancelledAtOperatorAfterRestart(order, wallet.address)
  })

  it('accepted, but storing the receipt failed (a statement timeout on the order row), then the user cancels: read back and cancelled at the operator', async () => {
    const dead = await deadWorker()
    const { wallet } = await h.wallet()
    const order = await place(dead, wallet.id)
    await signedThenCrashed(dead.deps, wallet.id, order.id)
    // The operator accepts; the receipt's transaction fails as a statement timeout would (the event
    // consumer holding the order row, say).
    const failing = { ...submitOrderSpec, onAccepted: async () => { throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }) } }
    await expect(runSubmission(dead.deps, (await db.outboxOf(order.id))[0]!.id, failing, { delay: async () => { throw new Error('not expected') } })).rejects.toThrow(/statement timeout/)
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status).toBe('open')
    // Nothing says it was refused.
    expect((await db.requestsOf(order.id)).map((r) => `${r.status}:${r.errorCode}`)).toEqual(['signed:null'])
    await cancelledAtOperatorAfterRestart(order, wallet.address)
  })

  it('a cancel whose job found the placement being claimed settles it before submission once that placement is held for a session', async () => {
    const dead = await deadWorker()
    // A wallet without a session: its placement is claimed, finds no session, and is held (unclaimed).
    const wallet = await ensureWallet(h.db, privateKeyToAccount(generatePrivateKey()).address)
    const order = await place(dead, wallet.id)
    const [placement] = await db.outboxOf(order.id)
    await h.db.update(outbox).set({ status: 'held' }).where(eq(outbox.id, placement!.id))
    const { outboxId } = await requestCancel(h.db, { orderId: order.id })
    // The cancel's job loaded the order while the placement had it claimed ('submitting').
    const stale = { deps: dead.deps, row: (await loadOutbox(h.db, outboxId!))!, order: { ...(await db.order(order.id)), state: 'submitting' as const } }
    expect(await h.db.transaction((tx) => submitCancelOrderSpec.claim(tx, stale))).toEqual({ kind: 'done', reason: 'cancelled before submission' })
    expect((await db.order(order.id)).state).toBe('cancelled')
    expect((await db.outboxOf(order.id)).find((r) => r.id === placement!.id)?.status).toBe('done')
  })

  it('a request whose answer was lost, resent after its deadline passed: signed again at once, placed once', async () => {
    const dead = await deadWorker()
    const { wallet } = await h.wallet()
    const order = await place(dead, wallet.id)
    // Signed a minute ago, sent, and the answer never came (the operator did not get it either).
    const persisted = await signedThenCrashed(dead.deps, wallet.id, order.id, { now: () => Date.now() - 60_000 })
    await h.db.update(requests).set({ status: 'unknown', errorCode: 'Transport' }).where(eq(requests.id, persisted.id))
    await h.db.update(orders).set({ state: 'unknown' }).where(eq(orders.id, order.id))

    const worker = await h.startWorker()
    try {
      await inState(order.id, 'open')
      // The stream may open the order before the receipt is stored.
      const sent = await eventually(async () => { const r = await db.requestsOf(order.id); return r[1]?.status === 'accepted' && r })
      expect(sent.map((r) => `${r.status}:${r.errorCode}`)).toEqual(['rejected:DeadlineExpired', 'accepted:null'])
      expect(sent[1]!.deadline).toBeGreaterThan(Date.now() - 1_000)
      // Re-signed within the same attempt: the job never failed.
      const job = await worker.submitQueue.getJob((await db.outboxOf(order.id))[0]!.id)
      expect(job?.stacktrace ?? []).toEqual([])
      expect(operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId)).toEqual([order.clientOrderId])
    } finally {
      await worker.close()
    }
  })
})

describe('one outbox row run by two jobs at once (a stalled job re-run beside the original)', () => {
  const control = { delay: async (ms: number): Promise<never> => { throw new Error(`delayed ${ms} ms`) } }

  /** An open order with a modify queued for it, and a closed worker's deps: no processor runs, the test's runs are the only ones. */
  async function modifyQueued() {
    const { wallet } = await h.wallet()
    const live = await h.startWorker()
    let order
    try {
      order = await place(live, wallet.id)
      await live.relay()
      await inState(order.id, 'open')
    } finally {
      await live.close()
    }
    const dead = await h.startWorker({ streams: false })
    await dead.close()
    const { outboxId } = await requestModify(h.db, dead.markets, { orderId: order.id, price: '1985', size: '0.6' })
    return { wallet, order, dead, outboxId }
  }

  it('a Modify signs one request between them, and the operator applies it once', async () => {
    const { wallet, order, dead, outboxId } = await modifyQueued()
    const results = await Promise.all([1, 2].map(() => runSubmission(dead.deps, outboxId, submitModifyOrderSpec, control)))

    // Both sent the one request's bytes; the operator answered the second as a replay.
    const modifies = (await db.requestsOf(order.id)).filter((r) => r.family === 'ModifyOrder')
    expect(modifies.map((r) => r.status)).toEqual(['accepted'])
    expect(results.map((r) => r.result === 'accepted' && r.requestId)).toEqual([modifies[0]!.id, modifies[0]!.id])
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)!.revision).toBe(1)
    const stored = await db.order(order.id)
    expect([stored.venueRevision, Number(stored.price), Number(stored.size)]).toEqual([1, 1985, 0.6])
  })

  it('a run that gets to signing after the other run finished the work signs nothing: the work is done, with the first request', async () => {
    const { wallet, order, dead, outboxId } = await modifyQueued()
    // The original run finishes the modification...
    const first = await runSubmission(dead.deps, outboxId, submitModifyOrderSpec, control)
    expect(first.result).toBe('accepted')
    // ...and the stalled run beside it, which had claimed before that, now gets to signing.
    const session = (await dead.deps.sessions.active(wallet.id))!
    const late = await signAndPersist(dead.deps, session, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: order.clientOrderId, price: 1985n * 10n ** 18n, size: 6n * 10n ** 17n }, { walletId: wallet.id, orderId: order.id, outboxId })
      .then(() => 'signed', (error: unknown) => error)
    expect(late).toMatchObject({ name: 'SettledMeanwhileError', status: 'done', latest: { status: 'accepted' } })
    expect((await db.requestsOf(order.id)).filter((r) => r.family === 'ModifyOrder')).toHaveLength(1)
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)!.revision).toBe(1)
  })
})
