import { eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MarketRules } from '../../src/runtime/intake/marketRules.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { setPolicy } from '../../src/runtime/policy/setPolicy.js'
import { claimPendingOrders } from '../../src/store/repositories/claimPendingOrders.js'
import { recordAcceptedOrders } from '../../src/store/repositories/recordAcceptedOrders.js'
import { intents, orders, outbox, requests, sessions, wallets } from '../../src/store/schema/index.js'
import type { Receipt } from '../../src/venue/types.js'
import { answeredRequests, createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrders } from './support/operator.js'

let h: Harness
let markets: MarketRules

beforeAll(async () => {
  h = await createHarness()
  markets = await h.markets()
})
afterAll(async () => { await h?.close() })

const place = (walletId: string, price = '1900') =>
  placeLimitOrder(h.db, markets, { walletId, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())
const outboxOf = async (orderId: string) => (await h.db.select().from(outbox).where(eq(outbox.orderId, orderId)))[0]!
const orderRow = async (id: string) => (await h.db.select().from(orders).where(eq(orders.id, id)))[0]!
const future = Math.floor(Date.now() / 1000) + 60

describe('the batched Order claim', () => {
  it('claims, in one statement, only fresh Orders of wallets that may place now, and names their active session', async () => {
    const ready = await h.wallet()
    const withPolicy = await h.wallet()
    await setPolicy(h.db, { walletId: withPolicy.wallet.id, rules: { maxOpenOrders: 50 } })
    const halted = await h.wallet()
    const noSession = await h.wallet()
    const cases = {
      ready: (await place(ready.wallet.id)).order,
      policy: (await place(withPolicy.wallet.id)).order,
      halted: (await place(halted.wallet.id)).order,
      noSession: (await place(noSession.wallet.id)).order,
      intentCancelled: (await place(ready.wallet.id, '1901')).order,
      alreadySubmitting: (await place(ready.wallet.id, '1902')).order,
      outboxDone: (await place(ready.wallet.id, '1903')).order,
      notDue: (await place(ready.wallet.id, '1904')).order,
    }
    await h.db.update(wallets).set({ status: 'halted', haltedReason: 'test' }).where(eq(wallets.id, halted.wallet.id))
    await h.db.update(sessions).set({ status: 'revoked' }).where(eq(sessions.walletId, noSession.wallet.id))
    await h.db.update(intents).set({ status: 'cancelled' }).where(eq(intents.id, cases.intentCancelled.intentId!))
    await h.db.update(orders).set({ state: 'submitting' }).where(eq(orders.id, cases.alreadySubmitting.id))
    await h.db.update(outbox).set({ status: 'done' }).where(eq(outbox.orderId, cases.outboxDone.id))
    await h.db.update(outbox).set({ availableAt: new Date(Date.now() + 60_000) }).where(eq(outbox.orderId, cases.notDue.id))

    const ids = await Promise.all(Object.values(cases).map(async (order) => (await outboxOf(order.id)).id))
    const claimed = await claimPendingOrders(h.db, ids, Math.floor(Date.now() / 1000))
    expect(claimed.map((c) => c.orderId).sort()).toEqual([cases.ready.id, cases.policy.id].sort())
    const readyClaim = claimed.find((c) => c.orderId === cases.ready.id)!
    expect(readyClaim).toMatchObject({ walletId: ready.wallet.id, sessionId: ready.session.id, hasPolicy: false, market: 'ETH-USD', side: 0, timeInForce: cases.ready.timeInForce, clientOrderId: cases.ready.clientOrderId })
    expect(Number(readyClaim.price)).toBe(1900)
    expect(claimed.find((c) => c.orderId === cases.policy.id)!.hasPolicy).toBe(true)
    // The claimed moved to submitting; the others are exactly as they were, for the one-by-one path.
    expect((await orderRow(cases.ready.id)).state).toBe('submitting')
    for (const name of ['halted', 'noSession', 'intentCancelled', 'outboxDone', 'notDue'] as const) expect((await orderRow(cases[name].id)).state).toBe('pending')
    // Claimed once: a second claim of the same rows takes nothing.
    expect(await claimPendingOrders(h.db, ids, Math.floor(Date.now() / 1000))).toEqual([])
  })

  it('does not claim for a session that expires within the signing margin', async () => {
    const { wallet } = await h.wallet()
    const { order } = await place(wallet.id)
    expect(await claimPendingOrders(h.db, [(await outboxOf(order.id)).id], future + 3600 * 24)).toEqual([])
    expect((await orderRow(order.id)).state).toBe('pending')
  })
})

describe('recording accepted Orders together', () => {
  async function claimedWithRequest(walletId: string, sessionId: string, price: string) {
    const { order } = await place(walletId, price)
    const row = await outboxOf(order.id)
    await claimPendingOrders(h.db, [row.id], Math.floor(Date.now() / 1000))
    const [request] = await h.db.insert(requests).values({
      walletId, sessionId, orderId: order.id, outboxId: row.id, family: 'Order', nonce: BigInt(Date.now()) * 1000n + BigInt(price.length + Number(price)), deadline: future * 1000, body: '{}', status: 'signed',
    }).returning()
    const receipt = { requestId: `venue-${order.id}`, family: 'Order', wallet: '0x0', orderId: `V-${order.id.slice(0, 8)}`, status: 'accepted', duplicate: false, seq: '1' } as unknown as Receipt
    return { order, outboxId: row.id, requestId: request!.id, sessionId, receipt }
  }
  const sentAt = new Date('2026-12-01T10:00:00.123Z')
  const asAccepted = (c: Awaited<ReturnType<typeof claimedWithRequest>>) => ({ outboxId: c.outboxId, orderId: c.order.id, requestId: c.requestId, sessionId: c.sessionId, receipt: c.receipt, sentAt })

  it('skips an order another transaction holds, records the rest, and records the skipped one once it is free', async () => {
    const { wallet, session } = await h.wallet()
    const held = await claimedWithRequest(wallet.id, session.id, '1801')
    const free = await claimedWithRequest(wallet.id, session.id, '1802')

    let release!: () => void
    const released = new Promise<void>((resolve) => { release = resolve })
    let locked!: () => void
    const isLocked = new Promise<void>((resolve) => { locked = resolve })
    const holder = h.db.transaction(async (tx) => {
      await tx.select().from(orders).where(eq(orders.id, held.order.id)).for('update')
      locked()
      await released
    })
    await isLocked
    const recorded = await recordAcceptedOrders(h.db, [asAccepted(held), asAccepted(free)], new Date())
    expect([...recorded]).toEqual([free.order.id])
    release()
    await holder

    const freeRow = await orderRow(free.order.id)
    expect(freeRow).toMatchObject({ state: 'open', venueOrderId: free.receipt.orderId, sessionId: session.id })
    expect((await h.db.select().from(requests).where(eq(requests.id, free.requestId)))[0]).toMatchObject({ status: 'accepted', duplicate: false, sentAt })
    expect((await outboxOf(free.order.id)).status).toBe('done')
    // The skipped one is untouched, so recording it later is the whole write.
    expect((await orderRow(held.order.id)).state).toBe('submitting')
    expect((await h.db.select().from(requests).where(eq(requests.id, held.requestId)))[0]!.status).toBe('signed')
    // Its first send's outcome was stored already (a lost answer): sent_at stays that send's time.
    const firstSend = new Date('2026-12-01T09:59:58.500Z')
    await h.db.update(requests).set({ status: 'unknown', sentAt: firstSend }).where(eq(requests.id, held.requestId))
    expect([...(await recordAcceptedOrders(h.db, [asAccepted(held)], new Date()))]).toEqual([held.order.id])
    expect(await orderRow(held.order.id)).toMatchObject({ state: 'open', venueOrderId: held.receipt.orderId })
    expect((await h.db.select().from(requests).where(eq(requests.id, held.requestId)))[0]).toMatchObject({ status: 'accepted', sentAt: firstSend })
  })

  it('never undoes what the event stream applied first, and cancels an order whose wallet was halted meanwhile', async () => {
    const { wallet, session } = await h.wallet()
    const filledFirst = await claimedWithRequest(wallet.id, session.id, '1803')
    // The fill event was applied before the receipt was recorded.
    await h.db.update(orders).set({ state: 'filled', filled: '0.1', filledNotional: '180300000000000000000000000000000000000', venueOrderId: filledFirst.receipt.orderId }).where(eq(orders.id, filledFirst.order.id))
    await h.db.update(wallets).set({ status: 'halted', haltedReason: 'kill switch' }).where(eq(wallets.id, wallet.id))
    await recordAcceptedOrders(h.db, [asAccepted(filledFirst)], new Date())
    expect(await orderRow(filledFirst.order.id)).toMatchObject({ state: 'filled', filled: '0.100000000000000000', sessionId: session.id })
    const cancels = await h.db.select().from(outbox).where(eq(outbox.orderId, filledFirst.order.id))
    expect(cancels.map((r) => `${r.kind}:${r.status}`).sort()).toEqual(['CancelOrder:pending', 'Order:done'])
  })
})

describe('the worker with batched Orders', () => {
  it('places a burst from several wallets through shared writes: one request each, every one accepted and open', async () => {
    // Relayed by hand below, not by the loop as they are written.
    const worker = await h.startWorker({ relayIntervalMs: 60_000 })
    const owners = await Promise.all([1, 2, 3, 4].map(() => h.wallet()))
    const placed = []
    for (let i = 0; i < 48; i++) placed.push((await place(owners[i % owners.length]!.wallet.id, String(1700 + i))).order)
    const ids = placed.map((o) => o.id)
    // Hold the orders' row locks while the jobs start, as a loaded database would: the first claim
    // waits, and the jobs arriving meanwhile queue behind it and go together.
    let release!: () => void
    const released = new Promise<void>((resolve) => { release = resolve })
    const holder = h.db.transaction(async (tx) => {
      await tx.select({ id: orders.id }).from(orders).where(inArray(orders.id, ids)).for('update')
      await released
    })
    await worker.relay()
    // Every job of the burst has started (and waits on the claim) before the locks go. The job id is the outbox id.
    const jobIds = await Promise.all(ids.map(async (id) => (await outboxOf(id)).id))
    const started = async () => (await Promise.all(jobIds.map(async (id) => (await worker.submitQueue.getJob(id))?.isActive()))).every(Boolean)
    await eventually(started, 20_000, 100)
    release()
    await holder
    await eventually(async () => (await h.db.select().from(orders).where(inArray(orders.id, ids))).every((o) => o.state === 'open'), 20_000)
    const sent = await answeredRequests(() => h.db.select().from(requests).where(inArray(requests.orderId, ids)), 20_000)
    expect(sent).toHaveLength(48)
    expect(sent.every((r) => r.status === 'accepted' && !r.duplicate)).toBe(true)
    // Each says when it went out: before the operator accepted it, which was before its receipt was stored.
    for (const r of sent) {
      const acceptedAt = (r.receipt as { acceptedAt: number }).acceptedAt
      expect([r.sentAt!.getTime() <= acceptedAt, acceptedAt <= r.completedAt!.getTime()]).toEqual([true, true])
    }
    // Rows inserted by one statement share its transaction's timestamp: the 48 requests were
    // persisted by a handful of statements.
    const statements = new Set(sent.map((r) => r.createdAt.getTime())).size
    expect(statements).toBeLessThan(12)
    // Each exactly once at the operator, under its own cloid.
    const atOperator = owners.flatMap(({ signer }) => operatorOrders(h.sandbox, signer.address))
    expect(atOperator).toHaveLength(48)
    expect(new Set(atOperator.map((o) => o.clientOrderId.toLowerCase()))).toEqual(new Set(placed.map((o) => o.clientOrderId.toLowerCase())))
  })
})
