/**
 * Reconciliation repairs both directions, and writes each repair to the audit
 * log: an order the operator never received is placed again once its last
 * request can no longer be accepted; an order the operator holds that Deputy
 * does not know (an orphan) is adopted or cancelled; a fill the stream missed
 * is recorded. Streams are off here, so only reconciliation learns anything.
 */
import { randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { applyEvent } from '../../jobs/applyEvent.js'
import { reconcile } from '../../jobs/reconcile.js'
import { submitOrderSpec } from '../../jobs/submitOrder.js'
import { parseAmount } from '../../src/core/money/decimal.js'
import { backfillFills } from '../../src/runtime/backfillFills.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { mutateOrder } from '../../src/store/repositories/mutateOrder.js'
import { signAndPersist } from '../../src/runtime/submission/signAndPersist.js'
import { orders, outbox, requests } from '../../src/store/schema/index.js'
import type { VenueEvent } from '../../src/venue/types.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { anotherAppSession, operatorEvents, operatorOrder, operatorOrders, sendWithSessionKey } from './support/operator.js'
import { rows } from './support/rows.js'
import { stopPeriodicReconcile } from './support/stopPeriodicReconcile.js'

let h: Harness
let worker: RunningWorker | undefined
let db: ReturnType<typeof rows>

beforeAll(async () => {
  // Orders fill half a unit at a time, so an orphan can be partly filled and still open.
  h = await createHarness({ sandbox: { makerSize: '0.5' } })
  db = rows(h.db)
})
afterAll(async () => { await h?.close() })

/**
 * The worker the tests share, started by the first that needs it, its periodic reconciliation
 * stopped: only the runs a test asks for reconcile. Its first periodic run, at once on start, would
 * otherwise race the test that started it (adopting its orphan, linking its fills) while the tests
 * after it found that run over.
 */
const running = async (): Promise<RunningWorker> => {
  if (!worker) {
    worker = await h.startWorker({ streams: false, sweepIntervalMs: 600_000 })
    await stopPeriodicReconcile(worker)
  }
  return worker
}

const reconcileNow = async (orphans: 'adopt' | 'cancel', clockAheadMs = 0) => {
  const { deps } = await running()
  // Time passed: on both clocks (deadlines are compared on the operator's).
  return reconcile(clockAheadMs ? { ...deps, now: () => Date.now() + clockAheadMs, operatorNow: () => deps.operatorNow() + clockAheadMs } : deps, { orphans, settleMs: 0 })
}
const auditActions = async (walletId: string) => (await db.audit(walletId)).filter((a) => a.actor === 'reconciler').map((a) => a.action)
const E18 = 10n ** 18n
/** The ETH-USD mark moves to `price` (the maker fills what it crosses) and back to 2000. */
const crossMark = (price: string) => {
  try {
    h.sandbox.setMark('ETH-USD', price)
  } finally {
    h.sandbox.setMark('ETH-USD', '2000')
  }
}

describe('orders Deputy has and the operator does not', () => {
  it('an order left unknown with nothing at the operator is placed again once its request deadline has passed', async () => {
    const { wallet } = await h.wallet()
    // Crafted, with no worker running, as a worker leaves it when its answer was lost and its
    // job gave up: claimed, signed, state unknown, the outbox row enqueued with no job behind it.
    // No repair sweep: one between the stop below and the close would write the stopped scheduler back.
    const dead = await h.startWorker({ streams: false, sweepIntervalMs: 600_000 })
    // Its scheduler is the shared worker's too (one prefix): stopped, as `running` stops it.
    await stopPeriodicReconcile(dead)
    await dead.close()
    const { order } = await placeLimitOrder(h.db, dead.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.4' }, new Date())
    const [row] = await h.db.update(outbox).set({ status: 'enqueued', enqueuedAt: new Date() }).where(eq(outbox.orderId, order.id)).returning()
    const claim = await h.db.transaction((tx) => submitOrderSpec.claim(tx, { deps: dead.deps, row: row!, order }))
    if (claim.kind !== 'proceed') throw new Error(claim.kind)
    const lost = await signAndPersist(dead.deps, (await dead.deps.sessions.active(wallet.id))!, 'Order', claim.fields, { walletId: wallet.id, orderId: order.id, outboxId: row!.id })
    await h.db.update(requests).set({ status: 'unknown', errorCode: 'Transport' }).where(eq(requests.id, lost.id))
    await h.db.update(orders).set({ state: 'unknown' }).where(eq(orders.id, order.id))

    // Before the deadline the lost request might still arrive: nothing is placed again.
    await reconcileNow('adopt')
    expect((await db.order(order.id)).state).toBe('unknown')
    expect(await auditActions(wallet.id)).toEqual([])

    // A minute later it cannot be accepted any more.
    const report = await reconcileNow('adopt', 60_000)
    expect(report.failures).toBe(0)
    await (await running()).relay()
    const open = await eventually(async () => { const o = await db.order(order.id); return o.state === 'open' && o })
    expect(open.clientOrderId).toBe(order.clientOrderId)
    expect((await db.answeredRequestsOf(order.id)).map((r) => `${r.status}:${r.errorCode}`)).toEqual(['rejected:NeverPlaced', 'accepted:null'])
    expect(operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId)).toEqual([order.clientOrderId])
    expect(await auditActions(wallet.id)).toEqual(['order.resubmitted'])
  })
})

describe('orders Deputy has as ended and the operator has live', () => {
  for (const recorded of ['cancelled', 'rejected'] as const) {
    it(`an order recorded ${recorded} here while open at the operator is read back and cancelled there`, async () => {
      const { wallet } = await h.wallet()
      const live = await running()
      const { order } = await placeLimitOrder(h.db, live.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
      await live.relay()
      await eventually(async () => (await db.order(order.id)).state === 'open')
      // As a placement accepted without Deputy learning it, then stopped (or refused) here.
      await h.db.update(orders).set({ state: recorded, ...(recorded === 'cancelled' ? { cancelReason: 'user' } : { rejectCode: 'InsufficientBalance', rejectReason: 'not enough USD' }) }).where(eq(orders.id, order.id))
      expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status).toBe('open')

      expect((await reconcileNow('adopt')).failures).toBe(0)
      await live.relay()
      await eventually(async () => operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status === 'cancelled')
      // Cancelled at the operator, not rejected: no rejection is left on it.
      expect(await eventually(async () => { const o = await db.order(order.id); return o.state === 'cancelled' && o }))
        .toMatchObject({ cancelReason: recorded === 'cancelled' ? 'user' : 'reconcile', rejectCode: null, rejectReason: null })
      expect(await auditActions(wallet.id)).toEqual(['order.liveAtOperator'])
      expect((await db.outboxOf(order.id)).map((r) => `${r.kind}:${r.status}`)).toEqual(['Order:done', 'CancelOrder:done'])
    })
  }

  // The cancel is written on one clock and the reconciler's moment on another: a minute apart either way.
  for (const skew of ['the reconciler\'s clock runs a minute ahead', 'the cancel was written by a worker whose clock runs a minute behind'] as const) {
    it(`an order cancelled after the open orders were listed is left cancelled: ${skew}`, async () => {
      const { wallet } = await h.wallet()
      const live = await running()
      const { order } = await placeLimitOrder(h.db, live.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
      await live.relay()
      await eventually(async () => (await db.order(order.id)).state === 'open')
      // Listed open; cancelled at the operator just after, and its receipt recorded here as a cancel's is (submitCancelOrder).
      const venue = {
        ...live.deps.venue,
        openOrders: async (...args: Parameters<typeof live.deps.venue.openOrders>) => {
          const listed = await live.deps.venue.openOrders(...args)
          expect((await sendWithSessionKey(live.deps, wallet.id, 'CancelOrder', { market: 'ETH-USD', clientOrderId: order.clientOrderId as Hex })).status).toBe(200)
          if (skew.endsWith('behind')) vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - 60_000 })
          try {
            await h.db.transaction((tx) => mutateOrder(tx, { id: order.id }, [{ kind: 'cancelled', reason: 'user' }]))
          } finally {
            vi.useRealTimers()
          }
          return listed
        },
      }
      expect((await db.order(order.id)).state).toBe('open')

      // The default settling time (5 s), on a clock 60 s ahead of the one that wrote the cancel.
      const report = await reconcile({ ...live.deps, venue, now: skew.endsWith('ahead') ? () => Date.now() + 60_000 : live.deps.now }, { walletId: wallet.id, orphans: 'adopt' })
      expect(report.failures).toBe(0)
      expect(await db.order(order.id)).toMatchObject({ state: 'cancelled', cancelReason: 'user' })
      expect(await auditActions(wallet.id)).toEqual([])
      expect((await db.outboxOf(order.id)).map((r) => r.kind)).toEqual(['Order'])
    })
  }
})

describe('orders the operator has and Deputy does not (orphans)', () => {
  async function orphan(walletId: string, address: string) {
    const clientOrderId = `0x${randomBytes(16).toString('hex')}` as Hex
    const answer = await sendWithSessionKey((await running()).deps, walletId, 'Order', {
      market: 'ETH-USD', side: 0, price: 1990n * E18, size: 1n * E18, timeInForce: 0, clientOrderId,
    })
    expect(answer.status).toBe(200)
    crossMark('1990')
    expect(operatorOrder(h.sandbox, address, clientOrderId)?.status).toBe('partiallyFilled')
    return clientOrderId
  }

  it('adopts an orphan, with the fill it already had', async () => {
    const { wallet } = await h.wallet()
    const cloid = await orphan(wallet.id, wallet.address)
    const report = await reconcileNow('adopt')
    expect(report.failures).toBe(0)

    const [adopted] = await db.ordersOf(wallet.id)
    expect(adopted?.clientOrderId).toBe(cloid)
    expect(adopted?.state).toBe('partially_filled')
    expect(adopted?.side).toBe(0)
    expect(parseAmount('price', adopted!.price)).toBe(1990n * E18)
    expect(parseAmount('filled', adopted!.filled)).toBe(E18 / 2n)
    expect(Number(adopted!.averagePrice)).toBe(1990)
    expect(await db.fillsOf(adopted!.id)).toHaveLength(1)
    expect((await auditActions(wallet.id)).sort()).toEqual(['fill.backfilled', 'orphan.adopt'])

    // A second run finds nothing left to repair.
    await reconcileNow('adopt')
    expect(await auditActions(wallet.id)).toHaveLength(2)
  })

  it('adopts an orphan whose fill the stream recorded before the order was known', async () => {
    const { wallet } = await h.wallet()
    const cloid = await orphan(wallet.id, wallet.address)
    // The stream delivered the orphan's events first: its fill is stored, matching no order yet.
    for (const event of operatorEvents(h.sandbox, wallet.address)) await applyEvent(h.db, wallet.id, event as unknown as VenueEvent)
    expect((await db.fillsOfWallet(wallet.id)).map((f) => f.orderId)).toEqual([null])

    expect((await reconcileNow('adopt')).failures).toBe(0)
    const [adopted] = await db.ordersOf(wallet.id)
    expect(adopted?.clientOrderId).toBe(cloid)
    expect(adopted?.state).toBe('partially_filled')
    expect(parseAmount('filled', adopted!.filled)).toBe(E18 / 2n)
    expect(Number(adopted!.averagePrice)).toBe(1990)
    expect((await db.fillsOfWallet(wallet.id)).map((f) => f.orderId)).toEqual([adopted!.id])
    expect((await auditActions(wallet.id)).sort()).toEqual(['fill.linked', 'orphan.adopt'])
  })

  it('adopts an orphan with a fill the stream recorded first that the order cannot count: linked, not counted, and a person told', async () => {
    const { wallet } = await h.wallet()
    const cloid = await orphan(wallet.id, wallet.address)
    const delivered = operatorEvents(h.sandbox, wallet.address) as unknown as VenueEvent[]
    for (const event of delivered) await applyEvent(h.db, wallet.id, event)
    // Then a fill each valid, but whose size on top of the 0.5 counted passes the largest amount stored
    // (uint256 at 18 decimals): stored unlinked, as the order is not known yet.
    const largest = '115792089237316195423570985008687907853269984665640564039457.584007913129639935'
    const last = delivered.at(-1)!
    await applyEvent(h.db, wallet.id, { ...last, seq: String(Number(last.seq) + 1), type: 'OrderFilled', data: { fillId: 'F-too-large', price: '1990', size: largest, fee: '0', remaining: '0' } })
    expect((await db.fillsOfWallet(wallet.id)).map((f) => f.orderId)).toEqual([null, null])

    expect((await reconcileNow('adopt')).failures).toBe(0)
    const [adopted] = await db.ordersOf(wallet.id)
    expect(adopted?.clientOrderId).toBe(cloid)
    expect(parseAmount('filled', adopted!.filled)).toBe(E18 / 2n)
    // Before, linked and left out of the order's totals without a word.
    const alerted = await eventually(async () => { const entries = await db.audit(wallet.id, 'alert.READ_UNAPPLIABLE'); return entries.length > 0 && entries })
    expect(alerted.map((a) => a.details)).toEqual([expect.objectContaining({
      clientOrderId: cloid, fillId: 'F-too-large', problem: 'size: counted on its order, the filled size would exceed the largest amount stored (uint256 at 18 decimals)',
    })])
    // Both linked; the audit trail says which one was not counted.
    const linked = (await db.audit(wallet.id)).filter((a) => a.action === 'fill.linked').map((a) => a.details as Record<string, unknown>)
    expect(linked.map((d) => [d.fillId === 'F-too-large', d.uncounted ?? null]).sort()).toEqual([[false, null], [true, alerted[0]!.details!.problem]])
  })

  it("cancels an orphan with orphanPolicy 'cancel'", async () => {
    const { wallet } = await h.wallet()
    const cloid = await orphan(wallet.id, wallet.address)
    expect((await reconcileNow('cancel')).failures).toBe(0)
    await (await running()).relay()
    const [adopted] = await db.ordersOf(wallet.id)
    await eventually(async () => (await db.order(adopted!.id)).state === 'cancelled')
    expect(operatorOrder(h.sandbox, wallet.address, cloid)?.status).toBe('cancelled')
    expect((await auditActions(wallet.id)).sort()).toEqual(['fill.backfilled', 'orphan.cancel'])
    expect((await db.answeredRequestsOf(adopted!.id)).map((r) => `${r.family}:${r.status}`)).toEqual(['CancelOrder:accepted'])
  })

  // The operator's reads are the wallet's, whichever session placed each order (PROTOCOL.md §6), and
  // they do not say which: an order the user placed through another app is an orphan too.
  for (const policy of ['adopt', 'cancel'] as const) {
    it(`an order the wallet placed through another app (another session) is an orphan: with '${policy}' it is ${policy === 'adopt' ? 'adopted and left live' : 'cancelled there'}`, async () => {
      const { wallet, signer } = await h.wallet()
      const send = await anotherAppSession((await running()).deps, signer)
      const clientOrderId = `0x${randomBytes(16).toString('hex')}` as Hex
      expect((await send('Order', { market: 'ETH-USD', side: 1, price: 2010n * E18, size: E18, timeInForce: 2, clientOrderId })).status).toBe(200)

      expect((await reconcileNow(policy)).failures).toBe(0)
      await (await running()).relay()
      const [adopted] = await db.ordersOf(wallet.id)
      expect(adopted).toMatchObject({ clientOrderId, side: 1, intentId: null, sessionId: null })
      expect(await auditActions(wallet.id)).toEqual([`orphan.${policy}`])
      if (policy === 'adopt') {
        expect(operatorOrder(h.sandbox, wallet.address, clientOrderId)?.status).toBe('open')
        expect(adopted!.state).toBe('open')
      } else {
        // Deputy's session cancels it: any session of the wallet may cancel any of its orders.
        await eventually(async () => (await db.order(adopted!.id)).state === 'cancelled')
        expect(operatorOrder(h.sandbox, wallet.address, clientOrderId)?.status).toBe('cancelled')
      }
    })
  }
})

describe('fills the stream missed', () => {
  /** A wallet's buy of 0.5 at 1990, placed through the worker and open (the mark is 2000). */
  async function openBuy() {
    const { wallet } = await h.wallet()
    const live = await running()
    const { order } = await placeLimitOrder(h.db, live.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
    await live.relay()
    await eventually(async () => (await db.order(order.id)).state === 'open')
    return { wallet, live, order }
  }

  it('records a missed fill once and completes the order', async () => {
    const { wallet, order } = await openBuy()
    crossMark('1985')
    expect((await reconcileNow('adopt')).failures).toBe(0)
    const filled = await db.order(order.id)
    expect(filled.state).toBe('filled')
    expect(Number(filled.filled)).toBe(0.5)
    expect(Number(filled.averagePrice)).toBe(1990)
    expect(await db.fillsOf(order.id)).toHaveLength(1)
    expect((await auditActions(wallet.id)).sort()).toEqual(['fill.backfilled', 'order.state'])

    await reconcileNow('adopt')
    expect(await db.fillsOf(order.id)).toHaveLength(1)
    expect(Number((await db.order(order.id)).filled)).toBe(0.5)
  })

  it('a fill whose stream event was passed over as malformed (the cursor moved past it) is counted, once', async () => {
    const { wallet, order } = await openBuy()
    crossMark('1985')
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status).toBe('filled')
    // The stream's events, the fill's without its `at`: stored, passed over, the cursor past it.
    for (const event of operatorEvents(h.sandbox, wallet.address)) {
      const copy = structuredClone(event) as unknown as Record<string, unknown>
      if (copy.type === 'OrderFilled') delete copy.at
      await applyEvent(h.db, wallet.id, copy as unknown as VenueEvent)
    }
    expect(await db.audit(wallet.id, 'event.unappliable')).toHaveLength(1)
    expect((await reconcileNow('adopt')).failures).toBe(0)
    const counted = await db.order(order.id)
    expect([counted.state, Number(counted.filled), Number(counted.averagePrice)]).toEqual(['filled', 0.5, 1990])
    expect(await db.fillsOf(order.id)).toHaveLength(1)
    await reconcileNow('adopt')
    expect(await db.fillsOf(order.id)).toHaveLength(1)
  })

  it('a fill whose stream event was passed over as malformed is counted by the next run when the run that read its order filled could not read the fills', async () => {
    const { wallet, live, order } = await openBuy()
    crossMark('1985')
    for (const event of operatorEvents(h.sandbox, wallet.address)) {
      const copy = structuredClone(event) as unknown as Record<string, unknown>
      if (copy.type === 'OrderFilled') delete copy.at
      await applyEvent(h.db, wallet.id, copy as unknown as VenueEvent)
    }
    expect((await db.order(order.id)).state).toBe('open')
    // The run reads the order (filled there), then the operator times out on the wallet's fills.
    const venue = { ...live.deps.venue, fills: async () => { throw new Error('operator timed out') } }
    expect((await reconcile({ ...live.deps, venue }, { walletId: wallet.id, orphans: 'adopt', settleMs: 0 })).failures).toBe(1)

    expect((await reconcileNow('adopt')).failures).toBe(0)
    const counted = await db.order(order.id)
    expect([counted.state, Number(counted.filled), Number(counted.averagePrice)]).toEqual(['filled', 0.5, 1990])
    expect(await db.fillsOf(order.id)).toHaveLength(1)
    expect(await auditActions(wallet.id)).toEqual(['order.state', 'fill.backfilled'])
  })

  it('a fill whose stream event was passed over as malformed, on an order the stream then saw cancelled, is counted', async () => {
    const { wallet } = await h.wallet()
    const live = await running()
    const { order } = await placeLimitOrder(h.db, live.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '1' }, new Date())
    await live.relay()
    await eventually(async () => (await db.order(order.id)).state === 'open')
    crossMark('1985')
    // Half filled, then cancelled at the operator (a cancel whose receipt is not recorded).
    expect((await sendWithSessionKey(live.deps, wallet.id, 'CancelOrder', { market: 'ETH-USD', clientOrderId: order.clientOrderId as Hex })).status).toBe(200)
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)).toMatchObject({ status: 'cancelled', filled: E18 / 2n })
    // The stream's events, the fill's without its `at`: passed over, the cursor past it; the cancel applied.
    for (const event of operatorEvents(h.sandbox, wallet.address)) {
      const copy = structuredClone(event) as unknown as Record<string, unknown>
      if (copy.type === 'OrderFilled') delete copy.at
      await applyEvent(h.db, wallet.id, copy as unknown as VenueEvent)
    }
    expect((await db.order(order.id)).state).toBe('cancelled')
    expect(await db.audit(wallet.id, 'event.unappliable')).toHaveLength(1)

    expect((await reconcileNow('adopt')).failures).toBe(0)
    const counted = await db.order(order.id)
    expect([counted.state, Number(counted.filled), Number(counted.averagePrice)]).toEqual(['cancelled', 0.5, 1990])
    expect(await db.fillsOf(order.id)).toHaveLength(1)
    expect(await auditActions(wallet.id)).toEqual(['fill.backfilled'])
    await reconcileNow('adopt')
    expect(await db.fillsOf(order.id)).toHaveLength(1)
    expect(await auditActions(wallet.id)).toEqual(['fill.backfilled'])
  })

  /**
   * A resting buy of 0.5 at 1990, modified behind the worker's back to 1 at 1991 (as a modify whose
   * receipt is not recorded yet), then half filled; with its row's view (state, price, size, filled, revision).
   */
  async function modifiedBehindThenHalfFilled() {
    const { wallet, live, order } = await openBuy()
    const modified = await sendWithSessionKey(live.deps, wallet.id, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: order.clientOrderId as Hex, price: 1991n * E18, size: 1n * E18 })
    expect(modified.status).toBe(200)
    crossMark('1990')
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status).toBe('partiallyFilled')
    const view = async () => {
      const o = await db.order(order.id)
      return [o.state, Number(o.price), Number(o.size), Number(o.filled), o.venueRevision]
    }
    return { wallet, live, order, view }
  }

  it('a fill ahead of the stream that follows a modify the stream has not applied either is counted on the modified order', async () => {
    const { wallet, live, order, view } = await modifiedBehindThenHalfFilled()
    // Counted against the order's old size (0.5) the fill would complete it, a final state in which
    // the modify's event, applied later, changes nothing: Postgres would keep the old price and size.
    const { added } = await backfillFills(live.deps, (await live.deps.sessions.active(wallet.id))!)
    expect(added).toHaveLength(1)
    expect(await view()).toEqual(['partially_filled', 1991, 1, 0.5, 1])
    // The stream catches up: nothing changes, and the fill is counted once.
    for (const event of operatorEvents(h.sandbox, wallet.address)) await applyEvent(h.db, wallet.id, event as unknown as VenueEvent)
    expect(await view()).toEqual(['partially_filled', 1991, 1, 0.5, 1])
    expect(await db.fillsOf(order.id)).toHaveLength(1)
  })

  it('an order counted filled against the size a modify replaced, which the operator lists open, is read back: partly filled at the new size', async () => {
    const { wallet, view } = await modifiedBehindThenHalfFilled()
    // The fill's event applied, the modify's never (malformed, passed over): 0.5 of the old 0.5, filled.
    for (const event of operatorEvents(h.sandbox, wallet.address)) {
      const delivered = event.type === 'OrderModified' ? { ...event, data: { ...event.data, price: 'NaN' } } : event
      await applyEvent(h.db, wallet.id, delivered as unknown as VenueEvent)
    }
    expect(await view()).toEqual(['filled', 1990, 0.5, 0.5, 0])

    expect((await reconcileNow('adopt')).failures).toBe(0)
    // The rest rests at the operator: Postgres says so, and the user can cancel it.
    expect(await view()).toEqual(['partially_filled', 1991, 1, 0.5, 1])
    expect(await auditActions(wallet.id)).toEqual(['order.state', 'order.modified'])
  })
})
