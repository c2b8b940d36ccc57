/**
 * Local policy limits against orders submitted together: the worker sends many of a wallet's
 * orders at once (WORKER_CONCURRENCY), so each order's check runs while the others are on their
 * way to the operator, not yet open. A limit must count those too: counting only open orders,
 * five of six orders went live under maxOpenOrders 2; counting every order claimed with it, one.
 */
import { sql } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { createPolicyCheck } from '../../src/runtime/policy/createPolicyCheck.js'
import { setPolicy } from '../../src/runtime/policy/setPolicy.js'
import { activeWallet, eventually, operatorOpenOrders } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const t = workerForFile()

/**
 * Six orders of 190 (0.1 at 1900, resting) placed together under `rules`: what the operator holds,
 * and how each settled here (every one open or refused).
 */
async function burstOfSix(rules: Parameters<typeof setPolicy>[1]['rules']) {
  const w = await activeWallet(t.h)
  await setPolicy(t.h.db, { walletId: w.wallet.id, rules })
  for (let i = 0; i < 6; i++) {
    await placeLimitOrder(t.h.db, t.worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date(t.h.sandbox.now()))
  }
  await t.worker.relay()
  const settled = await eventually(async () => {
    const all = await t.r.ordersOf(w.wallet.id)
    return all.length === 6 && all.every((o) => o.state === 'open' || o.state === 'rejected') && all
  })
  const refusals = settled.filter((o) => o.state === 'rejected').map((o) => [o.rejectCode, o.rejectReason?.split(':')[0]])
  return { atOperator: operatorOpenOrders(t.h.sandbox, w.wallet.address).length, open: settled.filter((o) => o.state === 'open').length, refusals }
}

it('maxOpenOrders holds for orders submitted together', async () => {
  const { atOperator, open, refusals } = await burstOfSix({ maxOpenOrders: 2 })
  // Exactly up to the limit: neither past it (each check counting only open orders), nor short of it
  // (each counting every order claimed with it, checked or not).
  expect([atOperator, open]).toEqual([2, 2])
  // The rest are refused locally.
  expect(refusals).toEqual(Array(4).fill(['LOCAL.POLICY', 'wallet policy maxOpenOrders']))
})

it('maxDailyNotional holds for orders submitted together, and lets through all that fit', async () => {
  // 190 each: two fit under 400, a third would not.
  const { atOperator, open, refusals } = await burstOfSix({ maxDailyNotional: '400' })
  expect([atOperator, open]).toEqual([2, 2])
  expect(refusals).toEqual(Array(4).fill(['LOCAL.POLICY', 'wallet policy maxDailyNotional']))
})

it('maxRequestsPerMinute holds for orders submitted together', async () => {
  // Each order's check runs before the others are signed: those let through count from then.
  const { atOperator, open, refusals } = await burstOfSix({ maxRequestsPerMinute: 2 })
  expect([atOperator, open]).toEqual([2, 2])
  expect(refusals).toEqual(Array(4).fill(['LOCAL.POLICY', 'wallet policy maxRequestsPerMinute']))
})

it('a policy tightened while a check waits for the wallet lock is the one it applies', async () => {
  const w = await activeWallet(t.h)
  await setPolicy(t.h.db, { walletId: w.wallet.id, rules: { maxDailyNotional: '1000' } })
  const check = createPolicyCheck({ db: t.h.db, venue: t.worker.deps.venue, now: () => Date.now() })
  const lockWaiters = async () => (await t.h.db.execute<{ n: number }>(sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).rows[0]!.n
  // The policy change written and not committed yet, holding the wallet's policy lock (`setPolicy`)
  // while a placement of 190 is checked: the check waits for it, and the change commits (the API
  // answers) before it decides.
  let changed!: () => void
  let commit!: () => void
  const isChanged = new Promise<void>((resolve) => { changed = resolve })
  const mayCommit = new Promise<void>((resolve) => { commit = resolve })
  const change = t.h.db.transaction(async (tx) => {
    await setPolicy(tx, { walletId: w.wallet.id, rules: { maxDailyNotional: '100' } })
    changed()
    await mayCommit
  })
  await isChanged
  let decided = false
  const checked = check({ walletId: w.wallet.id, sessionId: w.session.id, family: 'Order', market: 'ETH-USD', side: 0, price: 1900n * 10n ** 18n, size: 10n ** 17n })
    .finally(() => { decided = true })
  await eventually(async () => decided || (await lockWaiters()) >= 1)
  commit()
  await change
  // Decided under the lock, after the change: under the new rules, not those read before it waited.
  expect(await checked).toBe("wallet policy maxDailyNotional: today's notional would reach 190, above 100")
})
