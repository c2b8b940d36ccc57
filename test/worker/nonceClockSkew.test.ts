/**
 * Nonces across worker processes whose clocks differ. The operator keeps a session key's 100
 * highest nonces and refuses one below them (PROTOCOL.md §4): nonces drawn from each process's own
 * clock put a process whose clock runs behind another's below every nonce the other sent, and its
 * requests for that wallet were refused NonceReused, re-signed from the same clock and refused
 * again, until its clock caught up. Nonces are drawn on the operator's clock (measured at start-up,
 * as deadlines are), which every process shares.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { orders } from '../../src/store/schema/index.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

let h: Harness
beforeAll(async () => { h = await createHarness() })
afterAll(async () => { await h?.close() })

it('a worker whose clock runs a minute behind another\'s places a wallet\'s order at once after the other sent 120 for it', async () => {
  const db = rows(h.db)
  const { wallet } = await h.wallet()
  // The first worker's clock runs a minute ahead (of the operator's, and of the second worker's).
  const ahead = await h.startWorker({ now: () => Date.now() + 60_000 })
  for (let i = 0; i < 120; i++) {
    await placeLimitOrder(h.db, ahead.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: String(1800 + (i % 50)), size: '0.01' }, new Date())
  }
  await ahead.relay()
  await eventually(async () => (await db.ordersOf(wallet.id)).every((o) => o.state === 'open'), 30_000)
  await ahead.close()

  const behind = await h.startWorker()
  const { order } = await placeLimitOrder(h.db, behind.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1700', size: '0.01' }, new Date())
  await behind.relay()
  const open = await eventually(async () => { const [o] = await h.db.select().from(orders).where(eq(orders.id, order.id)); return o?.state === 'open' && o }, 15_000)
  expect(open.state).toBe('open')
  // Accepted on its first signature: no NonceReused, no re-signing.
  expect((await db.answeredRequestsOf(order.id)).map((r) => [r.status, r.errorCode])).toEqual([['accepted', null]])
}, 90_000)
