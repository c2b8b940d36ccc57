/**
 * Local policy in the running worker, against the sandbox: every rule refuses
 * before anything is signed or sent (no `requests` row, nothing at the
 * operator), the refusal names the rule on the order and in the audit log,
 * and cancels always pass.
 */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { requestCancel, requestCancelAll, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { createPolicyCheck } from '../../src/runtime/policy/createPolicyCheck.js'
import { setPolicy } from '../../src/runtime/policy/setPolicy.js'
import { policies } from '../../src/store/schema/index.js'
import { activeWallet, eventually, grant, operatorOpenOrders, operatorOrder, place, revokeBehindTheWorkersBack, settled } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const t = workerForFile()

type Placement = { market?: string; price?: string; size?: string }

/** Asserts the order was refused locally by `rule`, before any request existed. */
async function expectRefused(order: { id: string; clientOrderId: string }, address: string, walletId: string, reason: string) {
  const refused = await settled(t.h.db, order.id, 'rejected')
  expect(refused.rejectCode).toBe('LOCAL.POLICY')
  expect(refused.rejectReason).toMatch(new RegExp(`^${reason}: `))
  expect(await t.r.requestsOf(order.id)).toEqual([])
  expect(operatorOrder(t.h.sandbox, address, refused.clientOrderId)).toBeUndefined()
  const [row] = await t.r.outboxOf(order.id)
  expect([row!.status, row!.lastError]).toEqual(['failed', `LOCAL.POLICY: ${refused.rejectReason}`])
  const audited = (await t.r.audit(walletId, 'Order.refused')).map((a) => a.details)
  expect(audited).toContainEqual({ outboxId: row!.id, rule: 'LOCAL.POLICY', message: refused.rejectReason })
}

describe('local policy', () => {
  // Orders are ETH-USD buys of 0.1 at 1900 (notional 190) unless said otherwise; the mark is 2000.
  it.each<[string, Record<string, unknown>, Placement[], Placement]>([
    ['allowedMarkets', { allowedMarkets: ['BTC-USD'] }, [{ market: 'BTC-USD', price: '59000', size: '0.001' }], {}],
    ['maxOrderNotional', { maxOrderNotional: '200' }, [{ size: '0.105' }], { size: '0.106' }],
    ['maxDailyNotional', { maxDailyNotional: '400' }, [{}, {}], {}],
    ['priceBandBps', { priceBandBps: 500 }, [{ price: '1900' }], { price: '1899.99' }],
    ['maxOpenOrders', { maxOpenOrders: 2 }, [{}, {}], {}],
    ['maxRequestsPerMinute', { maxRequestsPerMinute: 2 }, [{}, {}], {}],
  ])('%s refuses an order before any request, and says so', async (rule, rules, passing, refusedInput) => {
    const w = await activeWallet(t.h)
    await setPolicy(t.h.db, { walletId: w.wallet.id, rules })
    for (const input of passing) await settled(t.h.db, (await place(t.h, t.worker, w.wallet.id, input)).id, 'open')

    const order = await place(t.h, t.worker, w.wallet.id, refusedInput)
    await expectRefused(order, w.wallet.address, w.wallet.id, `wallet policy ${rule}`)
    expect(operatorOpenOrders(t.h.sandbox, w.wallet.address)).toHaveLength(passing.length)
  })

  it('counts maxRequestsPerMinute over the last minute on Postgres\'s clock, which dates the requests: a worker a minute ahead counts them too', async () => {
    const w = await activeWallet(t.h)
    await setPolicy(t.h.db, { walletId: w.wallet.id, rules: { maxRequestsPerMinute: 1 } })
    await settled(t.h.db, (await place(t.h, t.worker, w.wallet.id)).id, 'open')
    // Asked at once by a worker whose clock runs 61 s ahead: the request signed just now is within the minute.
    const ahead = createPolicyCheck({ db: t.h.db, venue: t.worker.deps.venue, now: () => Date.now() + 61_000 })
    const refusal = await ahead({ walletId: w.wallet.id, sessionId: w.session.id, family: 'Order', market: 'ETH-USD', side: 0, price: 1900n * 10n ** 18n, size: 10n ** 17n })
    expect(refusal).toMatch(/^wallet policy maxRequestsPerMinute: /)
  })

  it('counts a request let through by maxRequestsPerMinute and not signed yet: two checked before either is signed are not both let through', async () => {
    const w = await activeWallet(t.h)
    const first = await place(t.h, t.worker, w.wallet.id)
    const second = await place(t.h, t.worker, w.wallet.id)
    await settled(t.h.db, first.id, 'open')
    await settled(t.h.db, second.id, 'open')
    // Two requests this minute (the Orders); room for one more.
    await setPolicy(t.h.db, { walletId: w.wallet.id, rules: { maxRequestsPerMinute: 3 } })
    const check = createPolicyCheck({ db: t.h.db, venue: t.worker.deps.venue, now: () => Date.now() })
    const modify = (orderId: string) => check({ walletId: w.wallet.id, sessionId: w.session.id, orderId, family: 'ModifyOrder', market: 'ETH-USD', side: 0, price: 1900n * 10n ** 18n, size: 2n * 10n ** 17n })
    // Two jobs checked one after the other, neither signed yet (as jobs running together are).
    expect(await modify(first.id)).toBeNull()
    expect(await modify(second.id)).toMatch(/^wallet policy maxRequestsPerMinute: 3 requests in the last minute reach the limit of 3$/)
  })

  it('counts maxDailyNotional over the UTC day on Postgres\'s clock, which dates the orders: a worker whose clock is already in the next day counts today\'s', async () => {
    const w = await activeWallet(t.h)
    await setPolicy(t.h.db, { walletId: w.wallet.id, rules: { maxDailyNotional: '300' } })
    await settled(t.h.db, (await place(t.h, t.worker, w.wallet.id)).id, 'open')
    // A worker whose clock runs ahead past midnight UTC, as one a few seconds ahead is in the seconds
    // before it: the order of 190 placed just now is today's, and a second one would pass 300.
    const midnight = new Date()
    midnight.setUTCHours(24, 0, 0, 0)
    const skewMs = midnight.getTime() - Date.now() + 1_000
    const ahead = createPolicyCheck({ db: t.h.db, venue: t.worker.deps.venue, now: () => Date.now() + skewMs })
    const refusal = await ahead({ walletId: w.wallet.id, sessionId: w.session.id, family: 'Order', market: 'ETH-USD', side: 0, price: 1900n * 10n ** 18n, size: 10n ** 17n })
    expect(refusal).toMatch(/^wallet policy maxDailyNotional: /)
  })

  it('takes changes of one wallet\'s policy asked together in turn: each succeeds, one policy remains', async () => {
    const w = await activeWallet(t.h)
    for (const sessionId of [undefined, w.session.id]) {
      const changes = [1, 2, 3, 4, 5, 6].map((n) => setPolicy(t.h.db, { walletId: w.wallet.id, ...(sessionId ? { sessionId } : {}), rules: { maxOpenOrders: n } }))
      const written = await Promise.all(changes)
      const stored = (await t.h.db.select().from(policies).where(eq(policies.walletId, w.wallet.id))).filter((row) => row.sessionId === (sessionId ?? null))
      expect(stored).toHaveLength(1)
      expect(written.map((row) => row.id)).toContain(stored[0]!.id)
    }
  })

  it('applies a session policy to that session only', async () => {
    const w = await activeWallet(t.h)
    await setPolicy(t.h.db, { walletId: w.wallet.id, sessionId: w.session.id, rules: { maxOrderNotional: '100' } })
    await expectRefused(await place(t.h, t.worker, w.wallet.id), w.wallet.address, w.wallet.id, 'session policy maxOrderNotional')

    // A new session does not inherit the old one's policy.
    await grant(t.h, w)
    await settled(t.h.db, (await place(t.h, t.worker, w.wallet.id)).id, 'open')
  })

  it('refuses a modification that breaks a rule, leaving the order as it was', async () => {
    const w = await activeWallet(t.h)
    const order = await place(t.h, t.worker, w.wallet.id)
    await settled(t.h.db, order.id, 'open')
    await setPolicy(t.h.db, { walletId: w.wallet.id, rules: { maxOrderNotional: '200' } })

    const { outboxId } = await requestModify(t.h.db, t.worker.markets, { orderId: order.id, price: '1900', size: '0.2' })
    await t.worker.relay()
    const failed = await eventually(async () => { const o = (await t.r.outboxOf(order.id)).find((x) => x.id === outboxId); return o?.status === 'failed' && o })
    expect(failed.lastError).toBe('LOCAL.POLICY: wallet policy maxOrderNotional: order notional 380 exceeds 200')
    expect((await t.r.requestsOf(order.id)).map((q) => q.family)).toEqual(['Order'])
    const unchanged = await t.r.order(order.id)
    expect([unchanged.state, Number(unchanged.size), unchanged.venueRevision]).toEqual(['open', 0.1, 0])
    expect(operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'open', revision: 0 })
    expect((await t.r.audit(w.wallet.id, 'ModifyOrder.refused')).map((a) => a.details.rule)).toEqual(['LOCAL.POLICY'])
  })

  it('never refuses a cancel, even when every rule would refuse anything else', async () => {
    const w = await activeWallet(t.h)
    const first = await place(t.h, t.worker, w.wallet.id)
    const second = await place(t.h, t.worker, w.wallet.id, { market: 'BTC-USD', price: '55000', size: '0.001' })
    await settled(t.h.db, first.id, 'open')
    await settled(t.h.db, second.id, 'open')
    await setPolicy(t.h.db, {
      walletId: w.wallet.id,
      rules: { allowedMarkets: [], maxOrderNotional: '0.000001', maxDailyNotional: '0.000001', priceBandBps: 0, maxOpenOrders: 0, maxRequestsPerMinute: 0 },
    })
    await expectRefused(await place(t.h, t.worker, w.wallet.id), w.wallet.address, w.wallet.id, 'wallet policy allowedMarkets')

    await requestCancel(t.h.db, { orderId: first.id })
    await t.worker.relay()
    expect((await settled(t.h.db, first.id, 'cancelled')).cancelReason).toBe('user')
    await requestCancelAll(t.h.db, { walletId: w.wallet.id })
    await t.worker.relay()
    expect((await settled(t.h.db, second.id, 'cancelled')).cancelReason).toBe('cancelAll')
    expect(operatorOpenOrders(t.h.sandbox, w.wallet.address)).toEqual([])
    const sent = (await t.r.answeredRequestsOfWallet(w.wallet.id)).map((q) => `${q.family}:${q.status}`)
    expect(sent).toEqual(['Order:accepted', 'Order:accepted', 'CancelOrder:accepted', 'CancelAll:accepted'])
  })

  /**
   * A resting order under `maxDailyNotional`, whose session then ends at the operator (the worker
   * learns it from its event stream): the order is cancelled there, and the remainder is placed
   * again under the next session. Answers the wallet, the order and its replacement.
   */
  async function replacedAfterSessionEnd(maxDailyNotional: string) {
    const w = await activeWallet(t.h)
    await setPolicy(t.h.db, { walletId: w.wallet.id, rules: { maxDailyNotional } })
    const order = await place(t.h, t.worker, w.wallet.id)
    await settled(t.h.db, order.id, 'open')
    expect(await revokeBehindTheWorkersBack(t.worker.deps, w.wallet.id)).toBe(200)
    await eventually(async () => (await t.r.session(w.session.id)).status === 'revoked')
    await grant(t.h, w)
    await t.worker.relay()
    expect((await settled(t.h.db, order.id, 'cancelled')).cancelReason).toBe('sessionRevoked')
    const replacement = await eventually(async () => (await t.r.ordersOfIntent(order.intentId!)).find((o) => o.id !== order.id && o.state === 'open'))
    return { w, order, replacement }
  }

  it('counts an order re-placed after its session ended once towards the daily notional', async () => {
    const { w, replacement } = await replacedAfterSessionEnd('300')
    expect(Number(replacement.size)).toBe(0.1)
    expect(operatorOpenOrders(t.h.sandbox, w.wallet.address).map((o) => o.clientOrderId)).toEqual([replacement.clientOrderId.toLowerCase()])
  })

  it('counts an order re-placed after its session ended once towards the daily notional of the next order too', async () => {
    // Room for two orders of 190, not three.
    const { w } = await replacedAfterSessionEnd('400')

    // The user has placed one order of 190 today (the cancelled one filled nothing; its remainder
    // is the replacement): a second of 190 fits, where counting both the cancelled order and its
    // replacement (570) refused it.
    const second = await settled(t.h.db, (await place(t.h, t.worker, w.wallet.id)).id, 'open', 'rejected')
    expect([second.state, second.rejectReason]).toEqual(['open', null])
  })
})
