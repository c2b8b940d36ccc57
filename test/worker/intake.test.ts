import { eq, inArray, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { groupedPlaceLimitOrder } from '../../src/runtime/intake/groupedPlaceLimitOrder.js'
import type { MarketRules } from '../../src/runtime/intake/marketRules.js'
import { type PlaceLimitOrderInput, placeLimitOrders } from '../../src/runtime/intake/placeLimitOrders.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { intents, orders, outbox, wallets } from '../../src/store/schema/index.js'
import { createHarness, type Harness } from './support/harness.js'

let h: Harness
let markets: MarketRules
beforeAll(async () => {
  h = await createHarness()
  markets = await h.markets()
})
afterAll(async () => { await h?.close() })

const buy = (walletId: string, extra: Partial<PlaceLimitOrderInput> = {}): PlaceLimitOrderInput =>
  ({ walletId, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.5', ...extra })

const stored = async (walletIds: string[]) => ({
  intents: await h.db.select().from(intents).where(inArray(intents.walletId, walletIds)),
  orders: await h.db.select().from(orders).where(inArray(orders.walletId, walletIds)),
  outbox: await h.db.select().from(outbox).where(inArray(outbox.walletId, walletIds)),
})

describe('placing several limit orders in one transaction', () => {
  it('answers each input on its own: refused ones store nothing and do not stop the others; a repeated clientRef answers the first order, or refuses another one', async () => {
    const one = (await h.wallet()).wallet
    const two = (await h.wallet()).wallet
    const halted = (await h.wallet()).wallet
    await h.db.update(wallets).set({ status: 'halted', haltedReason: 'kill switch' }).where(eq(wallets.id, halted.id))
    const now = new Date()
    const goodTill = new Date(now.getTime() + 3_600_000)

    const outcomes = await placeLimitOrders(h.db, markets, [
      buy(one.id, { clientRef: 'r1', goodTill }),
      buy(one.id, { price: '1900.001' }),
      buy('00000000-0000-4000-8000-000000000000'),
      buy(halted.id),
      buy(one.id, { clientRef: 'r1', price: '1800' }),
      buy(two.id, { side: 'sell', timeInForce: 'IOC' }),
      buy(two.id, { timeInForce: 'constructor' as never }),
      buy(one.id, { clientRef: 'r1', price: '1900.00', goodTill }),
    ].map((input) => ({ input, now })))

    const refused = outcomes.map((o) => (o.ok ? undefined : [o.error.field, o.error.rule]))
    expect(refused[1]).toEqual(['price', expect.stringMatching(/tickSize/)])
    expect(refused[2]).toEqual(['walletId', 'must name a known wallet'])
    expect(refused[3]).toEqual(['walletId', expect.stringMatching(/halted/)])
    expect(refused[6]).toEqual(['timeInForce', 'must be GTC, IOC or POST_ONLY'])
    // The same reference for another order (price and good-till differ): refused, not answered with the first.
    expect(refused[4]).toEqual(['clientRef', 'was already used for another order of this wallet (its price, goodTill differ); use a new clientRef, or repeat that order exactly to get it back'])
    for (const o of outcomes) if (!o.ok) expect(o.error).toBeInstanceOf(ValidationError)

    const placed = outcomes.map((o) => (o.ok ? o.placed : undefined))
    expect(placed[0]).toMatchObject({ created: true, intent: { clientRef: 'r1', walletId: one.id }, order: { state: 'pending', price: '1900.000000000000000000' } })
    // The same order under the same reference in the same batch (its price spelled otherwise): the first order.
    expect(placed[7]).toMatchObject({ created: false, order: { id: placed[0]!.order.id } })
    expect(placed[5]).toMatchObject({ created: true, order: { walletId: two.id, side: 1, timeInForce: 1 } })

    const rows = await stored([one.id, two.id, halted.id])
    expect(rows.intents).toHaveLength(2)
    expect(rows.orders.map((o) => o.id).sort()).toEqual([placed[0]!.order.id, placed[5]!.order.id].sort())
    expect(rows.orders.every((o) => o.clientOrderId.startsWith('0x'))).toBe(true)
    // An Order row for each, and the good-till cancel of the first, due at goodTill.
    expect(rows.outbox.map((r) => `${r.orderId}:${r.kind}`).sort()).toEqual(
      [`${placed[0]!.order.id}:Order`, `${placed[0]!.order.id}:CancelOrder`, `${placed[5]!.order.id}:Order`].sort())
    expect(rows.outbox.find((r) => r.kind === 'CancelOrder')!.availableAt.getTime()).toBe(goodTill.getTime())
    // In the order listed: the cancel's seq follows its Order's, and the placements' rows follow the inputs.
    expect([...rows.outbox].sort((a, b) => a.seq - b.seq).map((r) => `${r.orderId}:${r.kind}`)).toEqual(
      [`${placed[0]!.order.id}:Order`, `${placed[0]!.order.id}:CancelOrder`, `${placed[5]!.order.id}:Order`])

    // A later batch under the same reference answers the same order again.
    const [again, other] = await placeLimitOrders(h.db, markets, [
      { input: buy(one.id, { clientRef: 'r1', goodTill }), now }, { input: buy(one.id, { clientRef: 'r1', goodTill, size: '0.2' }), now }])
    expect(again).toMatchObject({ ok: true, placed: { created: false, order: { id: placed[0]!.order.id } } })
    expect(other).toMatchObject({ ok: false, error: { field: 'clientRef', rule: expect.stringContaining('(its size differs)') } })
    expect((await stored([one.id])).intents).toHaveLength(1)
  })
})

describe('a placement repeated under its clientRef after the wallet was halted', () => {
  it('answers the order it placed before the halt (a client retrying a lost answer); a new order under the reference is refused for the halt', async () => {
    const { wallet } = await h.wallet()
    const now = new Date()
    const [first] = await placeLimitOrders(h.db, markets, [{ input: buy(wallet.id, { clientRef: 'before-halt' }), now }])
    expect(first).toMatchObject({ ok: true, placed: { created: true } })
    await h.db.update(wallets).set({ status: 'halted', haltedReason: 'kill switch' }).where(eq(wallets.id, wallet.id))
    const [again, changed, fresh] = await placeLimitOrders(h.db, markets, [
      { input: buy(wallet.id, { clientRef: 'before-halt' }), now },
      { input: buy(wallet.id, { clientRef: 'before-halt', size: '0.2' }), now },
      { input: buy(wallet.id, { clientRef: 'after-halt' }), now },
    ])
    expect(again).toMatchObject({ ok: true, placed: { created: false, order: { id: first?.ok ? first.placed.order.id : '' } } })
    expect(changed).toMatchObject({ ok: false, error: { field: 'clientRef', rule: expect.stringContaining('(its size differs)') } })
    expect(fresh).toMatchObject({ ok: false, error: { field: 'walletId', rule: expect.stringMatching(/halted/) } })
    expect((await stored([wallet.id])).intents).toHaveLength(1)
  })
})

describe('grouped intake', () => {
  it('writes concurrent placements in one shared transaction, answering each caller (a refused one with its own error)', async () => {
    const { wallet } = await h.wallet()
    const place = groupedPlaceLimitOrder(h.db, () => markets)
    const now = new Date()
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) =>
      place(buy(wallet.id, { clientRef: `g-${i}`, ...(i === 7 ? { size: '-1' } : {}) }), now)))
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(39)
    const failed = results[7]!
    expect(failed.status === 'rejected' && failed.reason).toMatchObject({ field: 'size' })
    const refs = results.map((r) => (r.status === 'fulfilled' ? r.value.intent.clientRef : undefined))
    expect(refs.filter(Boolean)).toEqual(Array.from({ length: 40 }, (_, i) => `g-${i}`).filter((_, i) => i !== 7))
    // created_at is the transaction's start: one value means one transaction wrote them all.
    const [row] = await h.db.select({ transactions: sql<number>`count(distinct ${intents.createdAt})::int`, n: sql<number>`count(*)::int` }).from(intents).where(eq(intents.walletId, wallet.id))
    expect(row).toEqual({ transactions: 1, n: 39 })
  })

  it('places each one alone when the shared transaction fails, so none is lost', async () => {
    const { wallet } = await h.wallet()
    let calls = 0
    const place = groupedPlaceLimitOrder(h.db, () => {
      if (calls++ === 0) throw new Error('market rules unavailable for the shared batch')
      return markets
    })
    const now = new Date()
    const placed = await Promise.all(Array.from({ length: 5 }, (_, i) => place(buy(wallet.id, { clientRef: `f-${i}` }), now)))
    expect(placed.map((p) => p.created)).toEqual([true, true, true, true, true])
    const [row] = await h.db.select({ transactions: sql<number>`count(distinct ${intents.createdAt})::int`, n: sql<number>`count(*)::int` }).from(intents).where(eq(intents.walletId, wallet.id))
    expect(row).toEqual({ transactions: 5, n: 5 })
  })

  it('stores nothing twice when the shared transaction committed but its answer was lost, with or without a clientRef', async () => {
    const { wallet } = await h.wallet()
    // The connection drops after COMMIT reached Postgres and before its reply came back: the
    // transaction took effect, and the caller sees it fail (pg: "Connection terminated unexpectedly").
    let dropReply = true
    const db = Object.create(h.db) as typeof h.db
    db.transaction = (async (run: Parameters<typeof h.db.transaction>[0]) => {
      const result = await h.db.transaction(run)
      if (dropReply) {
        dropReply = false
        throw new Error('Connection terminated unexpectedly')
      }
      return result
    }) as typeof h.db.transaction
    const place = groupedPlaceLimitOrder(db, () => markets)
    const now = new Date()
    const placed = await Promise.all([place(buy(wallet.id), now), place(buy(wallet.id, { clientRef: 'lost-1' }), now), place(buy(wallet.id, { price: '1901' }), now)])
    expect(placed.map((p) => p.created)).toEqual([true, true, true])
    const all = await stored([wallet.id])
    expect(all.intents).toHaveLength(3)
    expect(all.orders).toHaveLength(3)
    expect(all.outbox).toHaveLength(3)
    expect(placed.map((p) => p.order.id).sort()).toEqual(all.orders.map((o) => o.id).sort())
    expect(placed.map((p) => p.intent.id).sort()).toEqual(all.intents.map((i) => i.id).sort())
  })
})

describe('modifying an order', () => {
  it('refuses a size at or below what already filled, naming the field, and queues nothing', async () => {
    const { wallet } = await h.wallet()
    const { order } = await placeLimitOrder(h.db, markets, buy(wallet.id), new Date())
    // As the event stream leaves an order 0.3 of whose 0.5 filled.
    await h.db.update(orders).set({ state: 'partially_filled', filled: '0.3' }).where(eq(orders.id, order.id))
    const queuedBefore = await h.db.select().from(outbox).where(eq(outbox.orderId, order.id))

    for (const size of ['0.3', '0.2']) {
      const refused = await requestModify(h.db, markets, { orderId: order.id, price: '1900', size }).catch((error: unknown) => error)
      expect(refused).toBeInstanceOf(ValidationError)
      expect(refused).toMatchObject({ field: 'size', message: expect.stringContaining('must exceed the 0.3 already filled') })
    }
    expect(await h.db.select().from(outbox).where(eq(outbox.orderId, order.id))).toEqual(queuedBefore)

    const { outboxId } = await requestModify(h.db, markets, { orderId: order.id, price: '1900', size: '0.4' })
    const [queued] = await h.db.select().from(outbox).where(eq(outbox.id, outboxId))
    expect(queued).toMatchObject({ kind: 'ModifyOrder', payload: { price: '1900', size: '0.4' } })
  })
})
