/**
 * The event stream under at-least-once delivery: duplicated frames, events
 * re-ordered or delivered twice, streams cut and resumed, and an event lost on
 * the way (a gap). Whatever the delivery, every event is applied once, fills
 * are counted once, and each order ends as the operator has it.
 *
 * The worker reaches the sandbox through a forwarding proxy, which records
 * where each stream resumed and can leave one event out.
 */
import { and, asc, eq, sql } from 'drizzle-orm'
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyEvent } from '../../jobs/applyEvent.js'
import { parseAmount } from '../../src/core/money/decimal.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { ensureWallet } from '../../src/runtime/wallets.js'
import { type OrderRow, events, orders, streamCursors } from '../../src/store/schema/index.js'
import type { VenueEvent } from '../../src/venue/types.js'
import type { RunningWorker } from '../../src/worker.js'
import type { EventLog } from '../../src/sandbox/engine/EventLog.js'
import { startEventProxy, type EventProxy } from './support/eventProxy.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorEvents, operatorFills, operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'
import { transactionStartOf } from '../support/transactionStartOf.js'

let h: Harness
let proxy: EventProxy
let worker: RunningWorker
let db: ReturnType<typeof rows>
const alerts: { walletId: string; code: string; message: string }[] = []

beforeAll(async () => {
  // A small maker size, so an order fills in several parts.
  h = await createHarness({ sandbox: { makerSize: '0.3' } })
  db = rows(h.db)
  proxy = await startEventProxy(h.sandbox.url)
  worker = await h.startWorker({ operatorUrl: proxy.url, alert: (event) => { alerts.push(event) } })
})
afterAll(async () => {
  await h?.close()
  await proxy?.close()
})

const E18 = 10n ** 18n
type Wallet = Awaited<ReturnType<Harness['wallet']>>

async function streaming(): Promise<Wallet> {
  const w = await h.wallet()
  await eventually(async () => worker.streams?.wallets().includes(w.wallet.id))
  return w
}

/** Rest, partial fill, modify (which fills at once), another fill, cancel: every event type an order sees. */
async function busyOrder(w: Wallet): Promise<OrderRow> {
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '1' }, new Date())
  await worker.relay()
  await eventually(async () => (await db.order(order.id)).state === 'open')
  try {
    h.sandbox.setMark('ETH-USD', '1990')
    await eventually(async () => (await db.order(order.id)).state === 'partially_filled')
    await requestModify(h.db, worker.markets, { orderId: order.id, price: '1995.5', size: '2' })
    await worker.relay()
    await eventually(async () => (await db.order(order.id)).venueRevision === 1)
    h.sandbox.setMark('ETH-USD', '1990')
    await requestCancel(h.db, { orderId: order.id })
    await worker.relay()
    return await eventually(async () => { const o = await db.order(order.id); return o.state === 'cancelled' && Number(o.filled) === 0.9 && o })
  } finally {
    h.sandbox.setMark('ETH-USD', '2000')
  }
}

/** Every event of the wallet stored once, the cursor at the operator's head, fills and totals exact. */
async function expectInStep(w: Wallet, orderIds: string[]): Promise<void> {
  const log = operatorEvents(h.sandbox, w.signer.address)
  await eventually(async () => {
    const [cursor] = await h.db.select().from(streamCursors).where(eq(streamCursors.walletId, w.wallet.id))
    return cursor?.lastSeq === log.length
  })
  const stored = await h.db.select({ seq: events.seq }).from(events).where(eq(events.walletId, w.wallet.id)).orderBy(asc(events.seq))
  expect(stored.map((e) => e.seq)).toEqual(log.map((e) => Number(e.seq)))
  const fills = await db.fillsOfWallet(w.wallet.id)
  expect(fills.map((f) => f.fillId).sort()).toEqual(operatorFills(h.sandbox, w.signer.address).map((f) => f.fillId).sort())
  for (const id of orderIds) {
    const local = await db.order(id)
    const remote = operatorOrder(h.sandbox, w.signer.address, local.clientOrderId)!
    expect(parseAmount('filled', local.filled)).toBe(remote.filled)
    // Deputy keeps Σ price×size unscaled (36 decimals), the sandbox scaled to 18.
    expect(BigInt(local.filledNotional)).toBe(remote.filledNotional * E18)
    if (remote.filled > 0n) expect(parseAmount('averagePrice', local.averagePrice)).toBe((remote.filledNotional * E18) / remote.filled)
    expect(parseAmount('price', local.price)).toBe(remote.price)
    expect(parseAmount('size', local.size)).toBe(remote.size)
    expect(local.venueRevision).toBe(remote.revision)
    expect(local.state).toBe({ open: 'open', partiallyFilled: 'partially_filled', filled: 'filled', cancelled: 'cancelled' }[remote.status])
  }
}

/** A streaming wallet with one resting buy, open, and the operator's event log for it. */
async function restingBuy(): Promise<{ w: Wallet; order: OrderRow; log: EventLog }> {
  const w = await streaming()
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
  await worker.relay()
  await eventually(async () => (await db.order(order.id)).state === 'open')
  return { w, order, log: h.sandbox.state.wallets.get(w.signer.address.toLowerCase())!.events }
}

/** The mark crosses the order twice (maker size 0.3): it fills, in two events. */
function fillTwice(): void {
  try {
    h.sandbox.setMark('ETH-USD', '1990')
    h.sandbox.setMark('ETH-USD', '1990')
  } finally {
    h.sandbox.setMark('ETH-USD', '2000')
  }
}

describe('duplicated and re-ordered events', () => {
  it('duplicateEvents: every frame twice, every event applied once', async () => {
    const w = await streaming()
    h.sandbox.setFaults({ duplicateEvents: 1 })
    try {
      const order = await busyOrder(w)
      await expectInStep(w, [order.id])
      expect(Number(order.averagePrice)).toBeCloseTo((0.3 * 1990 + 0.3 * 1990 + 0.3 * 1995.5) / 0.9, 9)
    } finally {
      h.sandbox.setFaults({ duplicateEvents: 0 })
    }
  })

  it('events fed out of order and twice end in the same state and fills as the clean run', async () => {
    const w = await streaming()
    const clean = await busyOrder(w)
    await expectInStep(w, [clean.id])
    const log = operatorEvents(h.sandbox, w.signer.address) as unknown as VenueEvent[]

    // The same order as intake wrote it, for another wallet, fed the same events scrambled.
    const twin = await ensureWallet(h.db, privateKeyToAddress(generatePrivateKey()))
    const [copy] = await h.db.insert(orders).values({
      walletId: twin.id, clientOrderId: clean.clientOrderId, market: 'ETH-USD', side: 0, price: '1990', size: '1', timeInForce: 0, state: 'pending',
    }).returning()
    const scrambled = [...log].reverse().flatMap((event, i) => (i % 2 ? [event] : [event, event]))
    scrambled.push(log[2]!, log[0]!)
    for (const event of scrambled) await applyEvent(h.db, twin.id, event)

    const fed = await db.order(copy!.id)
    const pick = (o: OrderRow) => ({
      state: o.state, price: o.price, size: o.size, filled: o.filled, filledNotional: o.filledNotional, averagePrice: o.averagePrice,
      fees: o.fees, venueRevision: o.venueRevision, venueOrderId: o.venueOrderId, cancelReason: o.cancelReason,
    })
    expect(pick(fed)).toEqual(pick(await db.order(clean.id)))
    const fillsOf = async (walletId: string) => (await db.fillsOfWallet(walletId)).map((f) => `${f.fillId}:${f.price}:${f.size}:${f.fee}`).sort()
    expect(await fillsOf(twin.id)).toEqual(await fillsOf(w.wallet.id))
    const [cursor] = await h.db.select().from(streamCursors).where(eq(streamCursors.walletId, twin.id))
    expect(cursor?.lastSeq).toBe(log.length)
  })
})

describe('stream drops and gaps', () => {
  it('streams cut every few milliseconds resume where they stopped: every event applied once', async () => {
    const w = await streaming()
    const opened = proxy.streamsOpened.length
    h.sandbox.setFaults({ streamDropEveryMs: 40 })
    try {
      const first = await busyOrder(w)
      const second = await busyOrder(w)
      await expectInStep(w, [first.id, second.id])
      expect(proxy.streamsOpened.length).toBeGreaterThan(opened + 1)
    } finally {
      h.sandbox.setFaults({ streamDropEveryMs: 0 })
    }
  })

  it('a lost event (a gap in seq) makes the consumer resume from its last seq, and the event is applied', async () => {
    const w = await streaming()
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
    await worker.relay()
    await eventually(async () => (await db.order(order.id)).state === 'open')
    const head = operatorEvents(h.sandbox, w.signer.address).length
    await eventually(async () => (await h.db.select().from(streamCursors).where(eq(streamCursors.walletId, w.wallet.id)))[0]?.lastSeq === head)
    // The first fill's event is lost on the way; the second one shows the gap.
    proxy.skipOnce(w.signer.address, head + 1)
    try {
      h.sandbox.setMark('ETH-USD', '1990')
      h.sandbox.setMark('ETH-USD', '1990')
    } finally {
      h.sandbox.setMark('ETH-USD', '2000')
    }
    await expectInStep(w, [order.id])
    expect(proxy.skipped).toContain(head + 1)
    expect(proxy.streamsOpened).toContain(head)
    expect((await db.order(order.id)).state).toBe('filled')
    const stored = await h.db.select().from(events).where(and(eq(events.walletId, w.wallet.id), eq(events.seq, head + 1)))
    expect(stored.map((e) => e.type)).toEqual(['OrderFilled'])
  })

  it('an event that can never be applied (a malformed field) is passed over with an alert, and the events after it still apply', async () => {
    const { w, order, log } = await restingBuy()
    // The operator sends an OrderModified whose price is not a decimal: applying it fails every time.
    const bad = log.append('OrderModified', Date.now(), { clientOrderId: order.clientOrderId as `0x${string}`, data: { price: 'NaN', size: '0.5', revision: 7 } })
    // The fills that follow it are applied all the same.
    fillTwice()
    await expectInStep(w, [order.id])
    expect((await db.order(order.id)).state).toBe('filled')
    const alert = alerts.find((a) => a.walletId === w.wallet.id && a.code === 'EVENT_UNAPPLIABLE')
    expect(alert?.message).toContain(`operator event ${bad.seq} (OrderModified) cannot be applied`)
    expect(alert?.message).toContain('data.price')
    const passedOver = await db.audit(w.wallet.id, 'event.unappliable')
    expect(passedOver.map((row) => row.details)).toEqual([expect.objectContaining({ seq: Number(bad.seq), type: 'OrderModified', problem: expect.stringContaining('data.price') })])
    // The alert was claimed in the transaction that passed the event over: a process dying after
    // the commit leaves it to the sweep of undelivered alerts.
    const [alerted] = await db.audit(w.wallet.id, 'alert.EVENT_UNAPPLIABLE')
    expect(await transactionStartOf(h.db, alerted!.id)).toBe(await transactionStartOf(h.db, passedOver[0]!.id))
  })

  it('a fill whose time Postgres cannot store (unix microseconds, year 50000 and more) is passed over with an alert, and the events after it still apply', async () => {
    const { w, order, log } = await restingBuy()
    const bad = log.append('OrderFilled', Date.now() * 1000, { clientOrderId: order.clientOrderId as `0x${string}`, data: { fillId: 'f-micro', price: '1990', size: '0.1', fee: '0', remaining: '0.4' } })
    fillTwice()
    await expectInStep(w, [order.id])
    expect((await db.order(order.id)).state).toBe('filled')
    expect(alerts.filter((a) => a.walletId === w.wallet.id && a.code === 'EVENT_UNAPPLIABLE').map((a) => a.message)).toEqual([
      expect.stringContaining(`operator event ${bad.seq} (OrderFilled) cannot be applied and was passed over: at: must be a time`),
    ])
  })

  it('fills each valid but together too large to store (ten of the largest size on a filled order) are passed over with an alert, and the events after them still apply', async () => {
    const { w, order, log } = await restingBuy()
    fillTwice()
    await eventually(async () => (await db.order(order.id)).state === 'filled')
    // The largest amount an event may carry (uint256 at 18 decimals): one more on top of what the
    // order counts is past what Postgres stores (numeric(78,18)) and Deputy reads back.
    const largest = '115792089237316195423570985008687907853269984665640564039457.584007913129639935'
    const huge = Array.from({ length: 10 }, (_, i) => log.append('OrderFilled', Date.now(), {
      clientOrderId: order.clientOrderId as `0x${string}`, data: { fillId: `f-huge-${i}`, price: '1990', size: largest, fee: '0', remaining: '0' },
    }))
    // Behind them, another order of the wallet.
    const { order: next } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1980', size: '0.5' }, new Date())
    await worker.relay()
    // Its placement is answered by a receipt, not an event: the cursor at the head does not wait for it.
    await eventually(async () => (await db.order(next.id)).state === 'open')
    await expectInStep(w, [order.id, next.id])
    expect((await db.order(order.id)).filled).toBe('0.500000000000000000')
    expect((await db.order(next.id)).state).toBe('open')
    expect(alerts.filter((a) => a.walletId === w.wallet.id && a.code === 'EVENT_UNAPPLIABLE').map((a) => a.message)).toEqual(huge.map((event) =>
      expect.stringContaining(`operator event ${event.seq} (OrderFilled) cannot be applied and was passed over: data.size: counted on its order, the filled size would exceed`)))
    expect((await db.audit(w.wallet.id, 'event.unappliable')).map((row) => (row.details as { seq: number }).seq)).toEqual(huge.map((event) => Number(event.seq)))
  })

  it('an event the operator sent with a NUL character or a lone surrogate, or with a clientOrderId that is not a string, does not stop the stream', async () => {
    const { w, order, log } = await restingBuy()
    // Postgres' jsonb refuses U+0000 and lone surrogates (JSON escapes both); the last would throw where the cloid is lower-cased.
    const withNul = log.append('OrderCancelled', Date.now(), { data: { reason: 'user', note: 'a\u0000b' } })
    const withSurrogate = log.append('OrderCancelled', Date.now(), { data: { reason: 'user', note: 'a\ud800b', ['k\udc00']: 'pair \ud83d\ude00 kept' } })
    const numericCloid = log.append('OrderCancelled', Date.now(), { clientOrderId: 12345 as never, data: { reason: 'user' } })
    fillTwice()
    await expectInStep(w, [order.id])
    expect((await db.order(order.id)).state).toBe('filled')
    const stored = await h.db.select().from(events).where(and(eq(events.walletId, w.wallet.id), eq(events.seq, Number(withNul.seq))))
    expect((stored[0]!.payload as { data: { note: string } }).data.note).toBe('a\ufffdb')
    const [surrogate] = await h.db.select().from(events).where(and(eq(events.walletId, w.wallet.id), eq(events.seq, Number(withSurrogate.seq))))
    expect((surrogate!.payload as { data: Record<string, string> }).data).toEqual({ reason: 'user', note: 'a\ufffdb', ['k\ufffd']: 'pair \ud83d\ude00 kept' })
    expect(alerts.filter((a) => a.walletId === w.wallet.id && a.code === 'EVENT_UNAPPLIABLE').map((a) => a.message)).toEqual([
      `operator event ${numericCloid.seq} (OrderCancelled) cannot be applied and was passed over: clientOrderId: must be a string; reconciliation reads the order from the operator`,
    ])
  })

  it('events that keep failing to apply for a reason of their own raise EVENT_STREAM_STALLED, once; the stream resumes once they apply', async () => {
    const w = await streaming()
    // A failure no check foresees: Postgres refuses to store this one event (a trigger here).
    await h.db.execute(sql`create or replace function refuse_stall_event() returns trigger language plpgsql as $$
      begin if new.payload->'data'->>'note' = 'stall' then raise exception 'refused by the test'; end if; return new; end $$`)
    await h.db.execute(sql`create trigger refuse_stall_event before insert on events for each row execute function refuse_stall_event()`)
    try {
      const log = h.sandbox.state.wallets.get(w.signer.address.toLowerCase())!.events
      const stuck = log.append('OrderCancelled', Date.now(), { data: { reason: 'user', note: 'stall' } })
      const stalled = () => alerts.filter((a) => a.walletId === w.wallet.id && a.code === 'EVENT_STREAM_STALLED')
      await eventually(async () => stalled().length > 0, 20_000)
      expect(stalled()[0]!.message).toContain(`the wallet's events from seq ${stuck.seq} failed to apply 5 times in a row: `)
      expect(stalled()[0]!.message).toContain('refused by the test')
    } finally {
      await h.db.execute(sql`drop trigger refuse_stall_event on events`)
    }
    // It applies now: the stream goes on from it, and the alert was raised once.
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
    await worker.relay()
    await eventually(async () => (await db.order(order.id)).state === 'open')
    await expectInStep(w, [order.id])
    expect(alerts.filter((a) => a.walletId === w.wallet.id && a.code === 'EVENT_STREAM_STALLED')).toHaveLength(1)
  })
})
