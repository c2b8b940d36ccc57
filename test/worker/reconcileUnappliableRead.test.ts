/**
 * A malformed operator read of one order or fill (a `filled` that is not a decimal, a revision too
 * large for Postgres, a fill's fee that is not a decimal) is passed over by the sweep with a
 * READ_UNAPPLIABLE alert naming it, and the rest of the wallet is reconciled all the same: an order
 * cancelled behind the stream is marked so with its fill, and an order recorded cancelled that the
 * operator lists open is cancelled there. Once the read is right again, the next sweep applies it.
 * The sandbox answers the malformed reads (`readOverrides` fault); streams are off.
 */
import { randomBytes } from 'node:crypto'
import { inArray } from 'drizzle-orm'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { orders } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorFills, operatorOrder, sendWithSessionKey } from './support/operator.js'
import { rows } from './support/rows.js'
import { openBuyFilledTwice } from './support/twoFills.js'

let h: Harness
let worker: RunningWorker
let db: ReturnType<typeof rows>
const alerts: { walletId: string; code: string; message: string; details?: Record<string, unknown> }[] = []

beforeAll(async () => {
  // A resting order fills 0.3 at a time.
  h = await createHarness({ sandbox: { makerSize: '0.3' } })
  db = rows(h.db)
  worker = await h.startWorker({ streams: false, sweepIntervalMs: 600_000, alert: (event) => { alerts.push(event) } })
})
afterAll(async () => { await h?.close() })

const reconcileNow = () => reconcile(worker.deps, { orphans: 'adopt', settleMs: 0 })

describe('a wallet one of whose orders and one of whose fills the operator reads back malformed', () => {
  it('gets its other repairs, with an alert naming each read passed over; the next sweep applies them once they are right', async () => {
    const { wallet } = await h.wallet()
    const place = async (price: string) => {
      const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price, size: '1' }, new Date())
      await worker.relay()
      return eventually(async () => { const row = await db.order(order.id); return row.state === 'open' && row })
    }
    const badFilled = await place('1980')
    const badRevision = await place('1980.5')
    const liveThere = await place('1970')
    const liveThereBad = await place('1960')
    const cancelledThere = await place('1990')
    const badFill = await place('1990.5')
    // Both 1990 orders fill 0.3, behind the stream; one is then cancelled at the operator.
    try {
      h.sandbox.setMark('ETH-USD', '1990')
    } finally {
      h.sandbox.setMark('ETH-USD', '2000')
    }
    expect((await sendWithSessionKey(worker.deps, wallet.id, 'CancelOrder', { market: 'ETH-USD', clientOrderId: cancelledThere.clientOrderId as Hex })).status).toBe(200)
    // Recorded cancelled here, still live at the operator.
    await h.db.update(orders).set({ state: 'cancelled', cancelReason: 'user' }).where(inArray(orders.id, [liveThere.id, liveThereBad.id]))
    const fillId = operatorFills(h.sandbox, wallet.address).find((f) => f.clientOrderId.toLowerCase() === badFill.clientOrderId.toLowerCase())!.fillId
    h.sandbox.setFaults({ readOverrides: {
      [badFilled.clientOrderId.toLowerCase()]: { filled: 'NaN' },
      [badRevision.clientOrderId.toLowerCase()]: { revision: 2 ** 31 },
      [liveThereBad.clientOrderId.toLowerCase()]: { price: '-1' },
      [fillId]: { fee: 'NaN' },
    } })

    try {
      expect((await reconcileNow()).failures).toBe(0)
    } finally {
      h.sandbox.setFaults({ readOverrides: {} })
    }
    const cancelled = await db.order(cancelledThere.id)
    expect([cancelled.state, Number(cancelled.filled)]).toEqual(['cancelled', 0.3])
    expect(await db.fillsOf(cancelledThere.id)).toHaveLength(1)
    // Cancelled there, the one with a malformed read too (the cancel needs only its cloid).
    expect((await db.audit(wallet.id, 'order.liveAtOperator')).map((row) => row.details.orderId).sort()).toEqual([liveThere.id, liveThereBad.id].sort())
    for (const live of [liveThere, liveThereBad]) {
      expect((await db.outboxOf(live.id)).map((row) => row.kind)).toEqual(['Order', 'CancelOrder'])
      await eventually(async () => operatorOrder(h.sandbox, wallet.address, live.clientOrderId)?.status === 'cancelled')
    }
    // The malformed ones are left as they were.
    expect((await db.order(badFilled.id)).state).toBe('open')
    expect((await db.order(badRevision.id)).venueRevision).toBe(0)
    expect(await db.fillsOf(badFill.id)).toHaveLength(0)
    const raised = new Map(alerts.filter((a) => a.walletId === wallet.id && a.code === 'READ_UNAPPLIABLE').map((a) => [a.message, a]))
    expect([...raised.keys()].sort()).toEqual([
      `the operator's read of fill ${fillId} of order ${badFill.clientOrderId} cannot be applied and was passed over: fee: must be a finite number; the rest of the wallet is reconciled, and it is read again on the next sweep`,
      `the operator's read of order ${badFilled.clientOrderId} cannot be applied and was passed over: filled: must be a finite number; the rest of the wallet is reconciled, and it is read again on the next sweep`,
      `the operator's read of order ${liveThereBad.clientOrderId} cannot be applied and was passed over: price: must not be negative; the rest of the wallet is reconciled, and it is read again on the next sweep`,
      `the operator's read of order ${badRevision.clientOrderId} cannot be applied and was passed over: revision: must be an integer from 0 to ${2 ** 31 - 1}; the rest of the wallet is reconciled, and it is read again on the next sweep`,
    ].sort())

    // Read right again: the next sweep counts the fill passed over.
    expect((await reconcileNow()).failures).toBe(0)
    const filled = await db.order(badFill.id)
    expect([filled.state, Number(filled.filled)]).toEqual(['partially_filled', 0.3])
  })
})

describe('an order Deputy does not hold (an orphan) whose side the operator reads back malformed', () => {
  it('is neither adopted nor cancelled, with an alert naming it; the next sweep adopts it once the read is right', async () => {
    const { wallet } = await h.wallet()
    const clientOrderId = `0x${randomBytes(16).toString('hex')}` as Hex
    expect((await sendWithSessionKey(worker.deps, wallet.id, 'Order', { market: 'ETH-USD', side: 1, price: 2010n * 10n ** 18n, size: 10n ** 18n, timeInForce: 0, clientOrderId })).status).toBe(200)
    h.sandbox.setFaults({ readOverrides: { [clientOrderId]: { side: 'sideways' } } })
    try {
      expect((await reconcile(worker.deps, { orphans: 'cancel', settleMs: 0 })).failures).toBe(0)
    } finally {
      h.sandbox.setFaults({ readOverrides: {} })
    }
    expect(await db.ordersOf(wallet.id)).toEqual([])
    expect(operatorOrder(h.sandbox, wallet.address, clientOrderId)?.status).toBe('open')
    expect(alerts.filter((a) => a.walletId === wallet.id).map((a) => [a.code, a.details?.clientOrderId, a.message])).toEqual([['READ_UNAPPLIABLE', clientOrderId,
      `the operator's read of order ${clientOrderId} cannot be applied and was passed over: side: must be a side: "buy" or "sell" (or 0 / 1); an order Deputy does not hold is neither adopted nor cancelled (ORPHAN_POLICY) without its side: it is left live at the operator, and read again on the next sweep`]])

    expect((await reconcileNow()).failures).toBe(0)
    expect((await db.ordersOf(wallet.id)).map((o) => [o.clientOrderId, o.side])).toEqual([[clientOrderId, 1]])
  })
})

describe('the same unappliable read met by every sweep', () => {
  it('is alerted once (one audit entry), not on every run', async () => {
    const { wallet } = await h.wallet()
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1950', size: '1' }, new Date())
    await worker.relay()
    const placed = await eventually(async () => { const row = await db.order(order.id); return row.state === 'open' && row })
    h.sandbox.setFaults({ readOverrides: { [placed.clientOrderId.toLowerCase()]: { filled: 'NaN' } } })
    try {
      for (let run = 0; run < 3; run++) expect((await reconcileNow()).failures).toBe(0)
    } finally {
      h.sandbox.setFaults({ readOverrides: {} })
    }
    expect(alerts.filter((a) => a.walletId === wallet.id && a.code === 'READ_UNAPPLIABLE')).toHaveLength(3)
    const entries = await eventually(async () => { const rows = await db.audit(wallet.id, 'alert.READ_UNAPPLIABLE'); return rows.length > 0 && rows })
    await new Promise((r) => setTimeout(r, 200))
    expect(await db.audit(wallet.id, 'alert.READ_UNAPPLIABLE')).toHaveLength(1)
    expect(entries[0]!.details).toMatchObject({ clientOrderId: placed.clientOrderId.toLowerCase(), problem: 'filled: must be a finite number' })
  })
})

describe('fills the operator reads back each valid, but too large together for their order to count', () => {
  it('counts those that fit and passes over the others with an alert, the sweep going on; the next sweep counts them once read right', async () => {
    const { wallet } = await h.wallet()
    // Two fills of 0.3, behind the stream.
    const { order, fills } = await openBuyFilledTwice(h, worker, wallet)
    const [first, second] = fills.map((f) => f.fillId)
    // The largest fee a fill may carry (uint256 at 18 decimals), on the second: on top of the first's
    // it would take the order's fees past what Postgres stores (numeric(78,18)) and Deputy reads back.
    const largest = '115792089237316195423570985008687907853269984665640564039457.584007913129639935'
    h.sandbox.setFaults({ readOverrides: { [first!]: { fee: '1' }, [second!]: { fee: largest } } })
    try {
      expect((await reconcileNow()).failures).toBe(0)
    } finally {
      h.sandbox.setFaults({ readOverrides: {} })
    }
    expect((await db.fillsOf(order.id)).map((f) => f.fillId)).toEqual([first])
    expect(Number((await db.order(order.id)).filled)).toBe(0.3)
    // Met by the sweep's two fill reads (since the cursor, then from the start, the order being short
    // of the operator's filled): one alert, by the sink's de-duplication on wallet, code and details.
    expect([...new Set(alerts.filter((a) => a.walletId === wallet.id && a.code === 'READ_UNAPPLIABLE').map((a) => a.message))]).toEqual([
      `the operator's read of fill ${second} of order ${order.clientOrderId.toLowerCase()} cannot be applied and was passed over: fee: counted on its order, the fees would exceed the largest amount stored (uint256 at 18 decimals); the rest of the wallet is reconciled, and it is read again on the next sweep`,
    ])

    expect((await reconcileNow()).failures).toBe(0)
    expect((await db.fillsOf(order.id)).map((f) => f.fillId).sort()).toEqual([first, second].sort())
    expect(Number((await db.order(order.id)).filled)).toBe(0.6)
  })
})
