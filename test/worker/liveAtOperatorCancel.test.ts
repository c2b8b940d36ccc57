/**
 * An order Postgres has as ended (cancelled, rejected) that the operator still lists open is
 * cancelled there by reconciliation (`order.liveAtOperator`), as an orphan to cancel is: under a
 * session whose scope has no CancelOrder (the user granted Order and CancelAll) that cancel is held
 * for a scope change, not failed, so the user's cancelled order cannot go on trading unseen: with a
 * wallet signer the session is rotated to a scope adding CancelOrder and the order cancelled;
 * without one, session maintenance alerts SESSION_SCOPE and a rotation through the API releases
 * the cancel. One that failed for good is queued again by the next sweep, with an alert.
 */
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import type { RequestFamily } from '../../src/core/acl/actions.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { grantSession } from '../../src/runtime/sessions/grantSession.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import { orders, sessions } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker
let db: ReturnType<typeof rows>
const signers = new Map<string, WalletSigner>()
const alerts: { walletId: string; code: string; message: string }[] = []
/** Wallets whose CancelOrders the local policy refuses (a cancel that fails for good). */
const refusingCancels = new Set<string>()

beforeAll(async () => {
  h = await createHarness()
  db = rows(h.db)
  worker = await h.startWorker({
    streams: false, sweepIntervalMs: 600_000, maintenanceIntervalMs: 3_600_000, rotationGraceMs: 1_000,
    walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
    alert: (event) => { alerts.push(event) },
    policy: async ({ walletId, family }) => (family === 'CancelOrder' && refusingCancels.has(walletId) ? 'cancels refused by this test' : null),
  })
})
afterAll(async () => { await h?.close() })

const reconcileNow = () => reconcile(worker.deps, { orphans: 'adopt', settleMs: 0 })

/**
 * A wallet whose Deputy session has `families`, with an order Deputy placed, open at the operator,
 * that Postgres has as cancelled by its user: as a placement accepted without Deputy learning it,
 * then stopped here.
 */
async function walletWithCancelledButLive(families: RequestFamily[]) {
  const w = await h.wallet(families)
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
  await worker.relay()
  await eventually(async () => (await db.order(order.id)).state === 'open')
  await h.db.update(orders).set({ state: 'cancelled', cancelReason: 'user' }).where(eq(orders.id, order.id))
  expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)?.status).toBe('open')
  return { ...w, order }
}
const cancelWork = async (orderId: string) => (await db.outboxOf(orderId)).filter((row) => row.kind === 'CancelOrder')
/**
 * Dates the order's failed cancels `ms` back, as if that long had passed since they failed; the
 * wallet's sessions, activated before them, go back with them (a session activated after the last
 * failure retries it at once).
 */
async function failedAgo(orderId: string, ms: number) {
  const ago = sql`now() - make_interval(secs => ${ms / 1000})`
  await h.db.execute(sql`update outbox set updated_at = ${ago} where order_id = ${orderId} and kind = 'CancelOrder' and status = 'failed'`)
  await h.db.execute(sql`update sessions set activated_at = ${ago} - interval '1 minute'
    where wallet_id = (select wallet_id from orders where id = ${orderId}) and activated_at is not null`)
}
const settledCancel = (orderId: string) => eventually(async () => {
  const [row] = await cancelWork(orderId)
  return row && ['held', 'done', 'failed'].includes(row.status) && row
})

describe('an order cancelled here and live at the operator, under a session whose scope has no CancelOrder', () => {
  it('without a wallet signer: the cancel is held, SESSION_SCOPE is alerted, and a rotation adding CancelOrder cancels it', async () => {
    const w = await walletWithCancelledButLive(['Order', 'CancelAll'])
    expect((await reconcileNow()).failures).toBe(0)
    expect(await db.audit(w.wallet.id, 'order.liveAtOperator')).toHaveLength(1)
    await worker.relay()
    const work = await settledCancel(w.order.id)
    expect({ status: work.status, lastError: work.lastError }).toMatchObject({ status: 'held', lastError: expect.stringMatching(/covers CancelOrder/) })
    expect(operatorOrder(h.sandbox, w.wallet.address, w.order.clientOrderId)?.status).toBe('open')

    await worker.maintainSessions(w.wallet.id)
    expect(alerts.filter((a) => a.walletId === w.wallet.id).map((a) => [a.code, a.message]))
      .toContainEqual(['SESSION_SCOPE', expect.stringMatching(/CancelOrder/)])

    // Still held on the next sweep (not queued twice).
    expect((await reconcileNow()).failures).toBe(0)
    expect((await cancelWork(w.order.id)).map((row) => row.status)).toEqual(['held'])

    // The user rotates the session with CancelOrder (the API's rotate): its activation releases the cancel.
    await grantSession({
      db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: w.signer, walletId: w.wallet.id, families: ['Order', 'CancelOrder', 'CancelAll'],
      lifetimeSeconds: 24 * 3600, nowMs: h.sandbox.now(),
    })
    await worker.relay()
    await eventually(async () => operatorOrder(h.sandbox, w.wallet.address, w.order.clientOrderId)?.status === 'cancelled')
    // Cancelled for the reason the user was told.
    expect(await eventually(async () => { const o = await db.order(w.order.id); return o.state === 'cancelled' && o })).toMatchObject({ cancelReason: 'user' })
  })

  it('with a wallet signer: the session is rotated to a scope adding CancelOrder and the order is cancelled', async () => {
    const w = await walletWithCancelledButLive(['Order', 'CancelAll'])
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    try {
      expect((await reconcileNow()).failures).toBe(0)
      await worker.relay()
      await eventually(async () => operatorOrder(h.sandbox, w.wallet.address, w.order.clientOrderId)?.status === 'cancelled', 15_000)
      const active = (await db.sessionsOf(w.wallet.id)).find((s) => s.status === 'active')
      expect(active?.aclScope).toEqual(['Order', 'CancelOrder', 'CancelAll'])
      await eventually(async () => (await cancelWork(w.order.id)).map((row) => row.status).join() === 'done')
      expect(await eventually(async () => { const o = await db.order(w.order.id); return o.state === 'cancelled' && o })).toMatchObject({ cancelReason: 'user' })
    } finally {
      signers.delete(w.wallet.address.toLowerCase())
    }
  })
})

describe('an order cancelled here whose cancel at the operator failed for good', () => {
  it('is cancelled again by the first sweep an interval after it failed, with an alert naming it', async () => {
    const w = await walletWithCancelledButLive(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
    // Read back live and its cancel queued, which the local policy refuses: failed for good.
    refusingCancels.add(w.wallet.id)
    expect((await reconcileNow()).failures).toBe(0)
    await worker.relay()
    const work = await settledCancel(w.order.id)
    expect({ status: work.status, lastError: work.lastError }).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/^LOCAL.POLICY/) })
    expect((await db.order(w.order.id)).state).toBe('open')
    expect(operatorOrder(h.sandbox, w.wallet.address, w.order.clientOrderId)?.status).toBe('open')
    refusingCancels.delete(w.wallet.id)

    // Not on a sweep within the interval (30 s by default) of the failure; on the first after it.
    expect((await reconcileNow()).failures).toBe(0)
    expect((await cancelWork(w.order.id)).map((row) => row.status)).toEqual(['failed'])
    await failedAgo(w.order.id, 30_000)
    expect((await reconcileNow()).failures).toBe(0)
    expect(alerts.filter((a) => a.walletId === w.wallet.id).map((a) => a.code)).toContain('ORDER_UNCANCELLED')
    expect(await db.audit(w.wallet.id, 'order.cancelRetried')).toHaveLength(1)
    await worker.relay()
    await eventually(async () => operatorOrder(h.sandbox, w.wallet.address, w.order.clientOrderId)?.status === 'cancelled')
    expect(await eventually(async () => { const o = await db.order(w.order.id); return o.state === 'cancelled' && o })).toMatchObject({ cancelReason: 'user' })
    // Once cancelled, nothing more is queued.
    expect((await reconcileNow()).failures).toBe(0)
    expect((await cancelWork(w.order.id)).map((row) => row.status)).toEqual(['failed', 'done'])
  })
})

describe('an order cancelled here whose cancel the operator refuses as an ACL violation on every sweep', () => {
  /**
   * The stored scope claims CancelOrder, the delegation at the operator does not (the operator
   * answers SessionAclViolation): the cancel fails for good at every send. It is queued again, but
   * only once the time since its last failure reaches the sweep interval, doubled after each failure
   * in a row (capped at an hour), not at every sweep: each attempt is a stored outbox row and a signed
   * request the operator refuses. The failures are read from Postgres (their rows' time), so any
   * worker's sweep, restarted ones included, keeps the schedule. Here the sweeps are run directly and
   * time is moved by dating the failures back. ACL_VIOLATION and ORDER_UNCANCELLED go out once each
   * (the alert sink's hourly rule, per wallet, code and details). A rotation retries at once.
   */
  it('is cancelled again after a wait that doubles with each failure, and at once after a rotation', async () => {
    const interval = 30_000
    const w = await walletWithCancelledButLive(['Order', 'CancelAll'])
    await h.db.update(sessions).set({ aclScope: ['Order', 'CancelOrder', 'CancelAll'] }).where(eq(sessions.id, w.session.id))
    worker.deps.sessions.forget(w.session.id)
    const failedCancels = async () => (await cancelWork(w.order.id)).filter((row) => row.status === 'failed').length
    const sweep = async () => {
      expect((await reconcile(worker.deps, { orphans: 'adopt', settleMs: 0, intervalMs: interval })).failures).toBe(0)
      await worker.relay()
    }

    // The first cancel (the reconciler's own, on reading the order back) fails.
    await sweep()
    await eventually(async () => (await failedCancels()) === 1)
    // Sweeps within the interval queue nothing.
    await sweep()
    await sweep()
    expect((await cancelWork(w.order.id)).map((row) => row.status)).toEqual(['failed'])
    // Once an interval has passed: queued again, and refused again.
    await failedAgo(w.order.id, interval)
    await sweep()
    await eventually(async () => (await failedCancels()) === 2)
    // Two in a row: an interval is not enough now, twice it is.
    await failedAgo(w.order.id, interval)
    await sweep()
    expect(await failedCancels()).toBe(2)
    expect((await cancelWork(w.order.id)).every((row) => row.status === 'failed')).toBe(true)
    await failedAgo(w.order.id, 2 * interval)
    await sweep()
    await eventually(async () => (await failedCancels()) === 3)
    // Three: four intervals.
    await failedAgo(w.order.id, 3 * interval)
    await sweep()
    expect(await failedCancels()).toBe(3)
    // Capped at an hour, whatever the count: ten failures in a row wait an hour, not 2^9 intervals.
    await h.db.execute(sql`insert into outbox (wallet_id, kind, order_id, payload, status, last_error)
      select wallet_id, kind, order_id, payload, status, last_error
      from (select * from outbox where order_id = ${w.order.id} and status = 'failed' order by seq desc limit 1) last, generate_series(1, 7)`)
    await failedAgo(w.order.id, 3_600_000 - 60_000)
    await sweep()
    expect(await failedCancels()).toBe(10)
    await failedAgo(w.order.id, 3_600_000)
    await sweep()
    await eventually(async () => (await failedCancels()) === 11)
    expect((await cancelWork(w.order.id)).map((row) => [row.status, row.lastError])).toEqual(Array(11).fill(['failed', expect.stringMatching(/^SessionAclViolation/)]))
    expect(await db.audit(w.wallet.id, 'order.cancelRetried')).toHaveLength(3)
    expect(operatorOrder(h.sandbox, w.wallet.address, w.order.clientOrderId)?.status).toBe('open')
    const raised = alerts.filter((a) => a.walletId === w.wallet.id).map((a) => a.code)
    expect(raised.filter((code) => code === 'ORDER_UNCANCELLED')).toHaveLength(3)
    // Delivered once each; the repeats are held back in memory, never written.
    await eventually(async () => (await db.audit(w.wallet.id, 'alert.ORDER_UNCANCELLED')).length === 1)
    expect(await db.audit(w.wallet.id, 'alert.ACL_VIOLATION')).toHaveLength(1)

    // The user rotates the session to one whose delegation has CancelOrder: the next sweep cancels
    // the order at once, without waiting out the hour.
    await grantSession({
      db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: w.signer, walletId: w.wallet.id, families: ['Order', 'CancelOrder', 'CancelAll'],
      lifetimeSeconds: 24 * 3600, nowMs: h.sandbox.now(),
    })
    await sweep()
    await eventually(async () => operatorOrder(h.sandbox, w.wallet.address, w.order.clientOrderId)?.status === 'cancelled')
    expect(await eventually(async () => { const o = await db.order(w.order.id); return o.state === 'cancelled' && o })).toMatchObject({ cancelReason: 'user' })
  })
})
