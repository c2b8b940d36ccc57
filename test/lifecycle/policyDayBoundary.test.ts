/**
 * maxDailyNotional counts what a wallet placed at the operator during the UTC day. Orders queued
 * before midnight while the wallet had no session are placed after it, when a session arrives:
 * they are today's, and each must count towards the others' limit. Counted by creation time,
 * all three went live (570 placed today under a limit of 400).
 */
import { sql } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { setPolicy } from '../../src/runtime/policy/setPolicy.js'
import { bareWallet, eventually, grant, operatorOpenOrders } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const t = workerForFile()

it('counts orders queued yesterday and placed today towards the notional of today', async () => {
  const w = await bareWallet(t.h)
  // Room for two orders of 190 (0.1 at 1900), not three.
  await setPolicy(t.h.db, { walletId: w.wallet.id, rules: { maxDailyNotional: '400' } })
  for (let i = 0; i < 3; i++) {
    await placeLimitOrder(t.h.db, t.worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date(t.h.sandbox.now()))
  }
  // Queued a minute before the last UTC midnight.
  await t.h.db.execute(sql`update orders set created_at = date_trunc('day', now() at time zone 'utc') at time zone 'utc' - interval '1 minute' where wallet_id = ${w.wallet.id}`)
  await grant(t.h, w)
  await t.worker.relay()
  const all = await eventually(async () => {
    const list = await t.r.ordersOf(w.wallet.id)
    return list.length === 3 && list.every((o) => o.state === 'open' || o.state === 'rejected') && list
  })
  // Sent together, each is checked with the others on their way counted: one or two fit, never three.
  const live = operatorOpenOrders(t.h.sandbox, w.wallet.address).length
  expect(live === 1 || live === 2).toBe(true)
  const refused = all.filter((o) => o.state === 'rejected')
  expect(refused).toHaveLength(3 - live)
  for (const o of refused) expect(o.rejectReason?.split(':')[0]).toBe('wallet policy maxDailyNotional')
})
