/**
 * An order whose session ended at the operator (revoked behind the worker's back here; an expiry is
 * the same) after its good-till time had passed, before its good-till cancel took effect: the
 * operator cancelled it for the session's end, and it is not placed again under the new session
 * (it would trade after the time the user said it must be gone by). It ends as its good-till cancel
 * would have left it: cancelled, reason goodTill, its intent cancelled, no work left queued.
 *
 * The worker is down from just after the placement until after the revocation (queues backed up, a
 * deployment), so neither the good-till cancel nor the stream's OrderCancelled runs before both are
 * due; the new worker learns of the revocation from its stream (refused, then a new session granted)
 * and sends the due good-till cancel, whichever comes first.
 */
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { replaceSessionOrder } from '../../src/runtime/sessions/replaceSessionOrder.js'
import { events, orders as ordersTable } from '../../src/store/schema/index.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, eventually, operatorOrder, place, revokeBehindTheWorkersBack, rows, settled } from './support/lifecycle.js'

let h: Harness
let r: ReturnType<typeof rows>
const signers = new Map<string, WalletSigner>()
const options = {
  walletSignerFor: (wallet: { address: string }) => signers.get(wallet.address.toLowerCase()),
  maintenanceIntervalMs: 3_600_000,
}

beforeAll(async () => {
  h = await createHarness()
  r = rows(h.db)
})
afterAll(async () => { await h?.close() })

it('ends cancelled for its good-till, its intent cancelled and its good-till cancel settled, when its session ends after that time', async () => {
  const w = await activeWallet(h)
  signers.set(w.wallet.address.toLowerCase(), w.signer)
  const first: RunningWorker = await h.startWorker(options)
  // Far enough for the placement to open first on a loaded machine (past it, the order is not sent).
  const goodTill = new Date(Date.now() + 6_000)
  const order = await place(h, first, w.wallet.id, { goodTill })
  await settled(h.db, order.id, 'open')
  await first.close()
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, goodTill.getTime() + 500 - Date.now())))

  expect(await revokeBehindTheWorkersBack(first.deps, w.wallet.id)).toBe(200)
  expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)?.status).toBe('cancelled')
  const second = await h.startWorker(options)

  // A new session comes (the old one refused), and with it the stream's OrderCancelled.
  await eventually(async () => (await r.sessionsOf(w.wallet.id)).some((s) => s.status === 'active' && s.id !== w.session.id), 20_000)
  await eventually(async () => (await r.outboxOf(order.id)).every((o) => o.status === 'done' || o.status === 'failed'), 20_000)
  await eventually(async () => {
    const applied = await h.db.select({ type: events.type }).from(events).where(and(eq(events.walletId, w.wallet.id), eq(events.clientOrderId, order.clientOrderId.toLowerCase())))
    return applied.some((e) => e.type === 'OrderCancelled')
  }, 20_000)

  const orders = await r.ordersOfIntent(order.intentId!)
  expect(orders.map((o) => [o.id, o.state, o.cancelReason])).toEqual([[order.id, 'cancelled', 'goodTill']])
  expect((await r.intentsOf(w.wallet.id)).map((i) => i.status)).toEqual(['cancelled'])
  expect((await r.outboxOf(order.id)).map((o) => [o.kind, o.status])).toEqual([['Order', 'done'], ['CancelOrder', 'done']])
  await second.close()
})

it('is not placed again by a worker whose clock runs behind, its good-till time passed on Postgres\'s clock', async () => {
  const w = await activeWallet(h)
  const worker = await h.startWorker(options)
  const goodTill = new Date(Date.now() + 6_000)
  const order = await place(h, worker, w.wallet.id, { goodTill })
  await settled(h.db, order.id, 'open')
  await worker.close()
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, goodTill.getTime() + 500 - Date.now())))
  // The session's end as the stream applies it: cancelled for it, then placed again unless it should not be.
  const [cancelled] = await h.db.update(ordersTable).set({ state: 'cancelled', cancelReason: 'sessionRevoked' }).where(eq(ordersTable.id, order.id)).returning()
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - 60_000 })
  const replacement = await h.db.transaction((tx) => replaceSessionOrder(tx, cancelled!)).finally(() => vi.useRealTimers())
  expect(replacement).toBeUndefined()
  expect((await r.ordersOfIntent(order.intentId!)).map((o) => [o.id, o.state, o.cancelReason])).toEqual([[order.id, 'cancelled', 'goodTill']])
  expect((await r.intentsOf(w.wallet.id)).find((i) => i.id === order.intentId)?.status).toBe('cancelled')
})
