/**
 * A user's limit order from intake to its end, against the sandbox over HTTP:
 * placed, modified, partly filled by the market moving, read back from the
 * database the way a user would, cancelled; expired by its good-till time;
 * modified too late; placed twice under one client reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { OrderNotOpenError, requestCancel, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, bareWallet, eventually, grant, openWithSession, operatorOrder, operatorOrders, place, rows, settled } from './support/lifecycle.js'

let h: Harness
let worker: RunningWorker
let r: ReturnType<typeof rows>

beforeAll(async () => {
  // The maker offers 0.2 ETH per level, so a larger order fills in parts as the mark moves.
  h = await createHarness({ sandbox: { makerSize: '0.2' } })
  r = rows(h.db)
  worker = await h.startWorker()
})
afterAll(async () => { await h?.close() })

const num = (value: string | null) => (value === null ? null : Number(value))

describe('a limit order', () => {
  it('is placed, modified, partly filled as the mark crosses it, read back with fills and average price, and cancelled', async () => {
    const w = await activeWallet(h)
    const order = await place(h, worker, w.wallet.id, { price: '1990', size: '0.5' })
    const open = await openWithSession(h.db, order.id)
    expect(open.venueOrderId).toBeTruthy()
    expect(open.sessionId).toBe(w.session.id)

    await requestModify(h.db, worker.markets, { orderId: order.id, price: '1980', size: '1' })
    await worker.relay()
    const modified = await eventually(async () => { const o = await r.order(order.id); return o.venueRevision === 1 && o })
    expect([num(modified.price), num(modified.size), modified.state]).toEqual([1980, 1, 'open'])
    expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ price: 1980n * 10n ** 18n, size: 10n ** 18n, revision: 1 })

    try {
      // The mark falls through the bid: the maker takes one level (0.2) at the order's own price.
      expect(h.sandbox.setMark('ETH-USD', '1975')).toBe(1)
      const partial = await eventually(async () => { const o = await r.order(order.id); return o.state === 'partially_filled' && o })
      expect([num(partial.filled), num(partial.averagePrice)]).toEqual([0.2, 1980])

      // Modified again while partly filled (the size stays the total), then filled another level lower.
      await requestModify(h.db, worker.markets, { orderId: order.id, price: '1970', size: '1' })
      await worker.relay()
      await eventually(async () => (await r.order(order.id)).venueRevision === 2)
      expect(h.sandbox.setMark('ETH-USD', '1965')).toBe(1)
      const twice = await eventually(async () => { const o = await r.order(order.id); return num(o.filled) === 0.4 && o })
      expect(twice.state).toBe('partially_filled')
      expect(num(twice.averagePrice)).toBe(1975)
      // Maker fees, 2 bps of each fill's notional, in USD.
      expect(twice.fees).toBe('0.158000000000000000')
      const recorded = await r.fillsOf(order.id)
      expect(recorded.map((f) => [num(f.price), num(f.size)])).toEqual([[1980, 0.2], [1970, 0.2]])
    } finally {
      h.sandbox.setMark('ETH-USD', '2000')
    }

    await requestCancel(h.db, { orderId: order.id })
    await worker.relay()
    const cancelled = await settled(h.db, order.id, 'cancelled')
    expect([cancelled.cancelReason, num(cancelled.filled), num(cancelled.size), num(cancelled.averagePrice)]).toEqual(['user', 0.4, 1, 1975])
    expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'cancelled', filled: 4n * 10n ** 17n })
    // The intent is marked when the CancelOrder's receipt is stored, which may land after the event
    // stream has already cancelled the order.
    expect(await eventually(async () => (await r.intentsOf(w.wallet.id))[0]!.status === 'cancelled')).toBe(true)
    expect((await r.answeredRequestsOf(order.id)).map((q) => `${q.family}:${q.status}`))
      .toEqual(['Order:accepted', 'ModifyOrder:accepted', 'ModifyOrder:accepted', 'CancelOrder:accepted'])
  })

  it('is cancelled at its good-till time, not before, and says why', async () => {
    const w = await activeWallet(h)
    // Far enough for the placement to open first on a loaded machine (past it, the order is not sent).
    const goodTill = new Date(Date.now() + 6_000)
    const expiring = await place(h, worker, w.wallet.id, { price: '1950', goodTill })
    const staying = await place(h, worker, w.wallet.id, { price: '1951' })
    await settled(h.db, expiring.id, 'open')

    // Cancelled once the receipt of the good-till cancel is recorded (the operator's event alone says `user`).
    const cancel = await eventually(async () => (await r.requestsOf(expiring.id)).find((q) => q.family === 'CancelOrder' && q.status === 'accepted'), 20_000)
    const cancelled = await r.order(expiring.id)
    expect([cancelled.state, cancelled.cancelReason]).toEqual(['cancelled', 'goodTill'])
    expect(cancel.createdAt.getTime()).toBeGreaterThanOrEqual(goodTill.getTime())
    expect(operatorOrder(h.sandbox, w.wallet.address, expiring.clientOrderId)?.status).toBe('cancelled')
    // An order without a good-till time is untouched.
    expect((await r.order(staying.id)).state).toBe('open')
    expect(operatorOrder(h.sandbox, w.wallet.address, staying.clientOrderId)?.status).toBe('open')
  })

  it('refuses at intake a modification of an order that already filled', async () => {
    const w = await activeWallet(h)
    // At the mark: taken at once.
    const order = await place(h, worker, w.wallet.id, { price: '2000', size: '0.1' })
    await settled(h.db, order.id, 'filled')
    const refusal = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1990', size: '0.1' }).catch((error: unknown) => error)
    expect(refusal).toBeInstanceOf(OrderNotOpenError)
    expect((refusal as OrderNotOpenError).name).toBe('OrderNotOpenError')
    expect((refusal as OrderNotOpenError).message).toContain('the order is filled; it cannot be modified')
    expect((await r.outboxOf(order.id)).map((o) => o.kind)).toEqual(['Order'])
  })

  it('answers a modification asked before the order was sent, which its placement took, once the order filled at once', async () => {
    // No session yet: the order waits, and the modification (still through the mark) is what gets placed.
    const w = await bareWallet(h)
    const order = await place(h, worker, w.wallet.id, { price: '2000', size: '0.1' })
    const { outboxId } = await requestModify(h.db, worker.markets, { orderId: order.id, price: '2001', size: '0.15' })
    await worker.relay()
    await eventually(async () => (await r.outboxOf(order.id)).every((o) => o.status === 'held'))
    await grant(h, w)
    await worker.relay()

    const filled = await settled(h.db, order.id, 'filled')
    const answered = await eventually(async () => { const o = (await r.outboxOf(order.id)).find((x) => x.id === outboxId); return o?.status === 'done' && o })
    const reason = "order filled: placed with this modification's price and size (asked before it was sent); nothing left to modify"
    expect(answered.lastError).toBe(reason)
    expect([num(filled.price), num(filled.size), num(filled.filled), filled.venueRevision]).toEqual([2001, 0.15, 0.15, 0])
    expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'filled', revision: 0, size: 15n * 10n ** 16n })
    // Skipped by the claim, or refused by the operator and read back: the same answer either way.
    const answers = (await r.audit(w.wallet.id)).filter((a) => ['ModifyOrder.skipped', 'ModifyOrder.notOpen'].includes(a.action))
    expect(answers.map((a) => a.details.reason)).toEqual([reason])
  })

  it('is placed once per client reference, even when placed twice at the same moment; another order under it is refused', async () => {
    const w = await activeWallet(h)
    const input = { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy' as const, price: '1900', size: '0.1', clientRef: 'user-ref-1' }
    const first = await placeLimitOrder(h.db, worker.markets, input, new Date())
    const again = await placeLimitOrder(h.db, worker.markets, input, new Date())
    expect(first.created).toBe(true)
    expect(again.created).toBe(false)
    expect([again.order.id, again.intent.id, num(again.order.price)]).toEqual([first.order.id, first.intent.id, 1900])
    // The reference reused for another order: refused, nothing stored.
    await expect(placeLimitOrder(h.db, worker.markets, { ...input, price: '1800' }, new Date())).rejects.toMatchObject({ field: 'clientRef', rule: expect.stringContaining('(its price differs)') })

    const racing = await Promise.all([0, 1, 2].map(() => placeLimitOrder(h.db, worker.markets, { ...input, clientRef: 'user-ref-2' }, new Date())))
    expect(new Set(racing.map((p) => p.order.id)).size).toBe(1)
    expect(racing.filter((p) => p.created)).toHaveLength(1)

    await worker.relay()
    await settled(h.db, first.order.id, 'open')
    await settled(h.db, racing[0]!.order.id, 'open')
    expect(await r.intentsOf(w.wallet.id)).toHaveLength(2)
    expect(operatorOrders(h.sandbox, w.wallet.address)).toHaveLength(2)
    expect((await r.requestsOfWallet(w.wallet.id)).map((q) => q.family)).toEqual(['Order', 'Order'])
    // Modified since, the order is still what the reference was first placed for.
    await requestModify(h.db, worker.markets, { orderId: first.order.id, price: '1950', size: '0.1' })
    expect((await placeLimitOrder(h.db, worker.markets, input, new Date())).order.id).toBe(first.order.id)
  })
})
