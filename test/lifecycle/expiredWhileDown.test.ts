/**
 * A session that expires while the worker is down, with a placement whose answer was lost
 * in flight: the restarted worker never signs with the expired session, the work waits for
 * a new one, and the intent ends with exactly one live order at the operator (nothing shown
 * open here that the operator has cancelled).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { bareWallet, eventually, grant, operatorOpenOrders, operatorOrder, place, rows } from './support/lifecycle.js'

let h: Harness
let r: ReturnType<typeof rows>
const signers = new Map<string, WalletSigner>()
/** The workers a test started, closed after it whether it passed or not: one left running on the same queues would take the next test's work while that test's worker is down. */
const running: { close(ms: number): Promise<unknown> }[] = []
afterEach(async () => { await Promise.all(running.splice(0).map((worker) => worker.close(5_000).catch(() => undefined))) })

beforeAll(async () => {
  h = await createHarness()
  r = rows(h.db)
})
afterAll(async () => { await h?.close() })

async function started<W extends { close(ms: number): Promise<unknown> }>(starting: Promise<W>): Promise<W> {
  const worker = await starting
  running.push(worker)
  return worker
}

describe('a session that expires while the worker is down', () => {
  it('a placement whose answer was lost before the stop ends with one live order under the new session, shown as such', async () => {
    const options = {
      now: () => h.sandbox.now(), maintenanceIntervalMs: 3_600_000, rotateLeadSeconds: 60, sessionLifetimeSeconds: 3600 + 60,
      walletSignerFor: (wallet: { address: string }) => signers.get(wallet.address.toLowerCase()),
    }
    const first = await started(h.startWorker(options))
    const w = await bareWallet(h)
    const { session: expiring } = await grant(h, w, { lifetimeSeconds: 3600 + 60, families: ['Order', 'CancelOrder', 'CancelAll'] })

    // The operator takes the placement, and every answer is lost while the worker runs.
    h.sandbox.setFaults({ dropAfterAccept: 1 })
    const order = await place(h, first, w.wallet.id)
    await eventually(async () => (await r.order(order.id)).state === 'unknown')
    expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)?.status).toBe('open')
    await first.close(5_000)
    h.sandbox.setFaults({ dropAfterAccept: 0 })

    // Down past expiry: the operator ends the delegation and cancels its order.
    h.sandbox.advanceClock(expiring.expiryUnix * 1000 + 20_000 - h.sandbox.now())
    expect(operatorOpenOrders(h.sandbox, w.wallet.address)).toEqual([])

    // Restarted, still without the wallet's signer: the work waits, nothing signed with the expired session.
    const second = await started(h.startWorker(options))
    await second.maintainSessions(w.wallet.id)
    expect((await r.session(expiring.id)).status).toBe('expired')
    // The placement's job runs again after its retry delay (up to 5 s after the answers lost before
    // the stop), on a restarted worker: on a loaded host that takes more than the default 10 s.
    await eventually(async () => (await r.outboxOf(order.id)).some((o) => o.kind === 'Order' && o.status === 'held'), 30_000)
    const before = (await r.requestsOfWallet(w.wallet.id)).map((q) => q.sessionId)
    expect(before.every((id) => id === expiring.id)).toBe(true)
    expect(before).toHaveLength(1)

    // The signer comes back: a new session, and the intent is live once, under it.
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    await second.maintainSessions(w.wallet.id)
    const next = await eventually(async () => (await r.sessionsOf(w.wallet.id)).find((s) => s.status === 'active'))
    await second.relay()
    const live = await eventually(async () => {
      const open = operatorOpenOrders(h.sandbox, w.wallet.address)
      return open.length === 1 && open
    }, 15_000)
    expect(live[0]!.delegationHash).toBe(next.delegationHash)
    // What the worker shows: the live one open under the new session, every other order of the intent ended.
    const shown = await eventually(async () => {
      const all = await r.ordersOfIntent(order.intentId!)
      const open = all.filter((o) => o.state === 'open')
      // Its session is stored with the receipt, which the stream's OrderAccepted can overtake.
      return open.length === 1 && open[0]!.sessionId !== null && all.every((o) => ['open', 'cancelled', 'rejected', 'filled'].includes(o.state)) && all
    }, 15_000)
    const openOne = shown.find((o) => o.state === 'open')!
    expect(openOne.clientOrderId.toLowerCase()).toBe(live[0]!.clientOrderId)
    expect(openOne.sessionId).toBe(next.id)
    await eventually(async () => (await r.outboxOfWallet(w.wallet.id)).every((o) => o.status === 'done'))
    expect((await r.outboxOfWallet(w.wallet.id)).filter((o) => o.status === 'failed')).toEqual([])
    // Closed: left running on the same queues, it would take the next test's work while that test's worker is down.
    await second.close(5_000)
  })
})

describe('work queued while the worker is down past its session\'s expiry', () => {
  it('waits for the new session and fails none of it: the modify follows the replacement, the cancel keeps its order from being placed again', async () => {
    const options = {
      now: () => h.sandbox.now(), maintenanceIntervalMs: 3_600_000, rotateLeadSeconds: 60, sessionLifetimeSeconds: 3600 + 60,
      walletSignerFor: (wallet: { address: string }) => signers.get(wallet.address.toLowerCase()),
    }
    const first = await started(h.startWorker(options))
    const w = await bareWallet(h)
    const { session: expiring } = await grant(h, w, { lifetimeSeconds: 3600 + 60, families: ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'] })
    const toModify = await place(h, first, w.wallet.id, { price: '1700' })
    const toCancel = await place(h, first, w.wallet.id, { price: '1701' })
    for (const o of [toModify, toCancel]) await eventually(async () => (await r.order(o.id)).state === 'open')
    await first.close(5_000)

    // Asked while the worker is down; then the session expires there, cancelling both orders.
    const { requestModify, requestCancel } = await import('../../src/runtime/intake/requestOrderChange.js')
    const markets = await h.markets()
    await requestModify(h.db, markets, { orderId: toModify.id, price: '1710', size: '0.2' })
    await requestCancel(h.db, { orderId: toCancel.id })
    const { placeLimitOrder } = await import('../../src/runtime/intake/placeLimitOrder.js')
    const { order: fresh } = await placeLimitOrder(h.db, markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1702', size: '0.1' }, new Date(h.sandbox.now()))
    h.sandbox.advanceClock(expiring.expiryUnix * 1000 + 20_000 - h.sandbox.now())
    expect(operatorOpenOrders(h.sandbox, w.wallet.address)).toEqual([])

    signers.set(w.wallet.address.toLowerCase(), w.signer)
    const second = await started(h.startWorker(options))
    await second.relay()
    await second.maintainSessions(w.wallet.id)
    const next = await eventually(async () => (await r.sessionsOf(w.wallet.id)).find((s) => s.status === 'active'))
    await second.relay()
    await eventually(async () => (await r.outboxOfWallet(w.wallet.id)).every((o) => o.status === 'done' || o.status === 'failed'), 20_000)
    const work = await r.outboxOfWallet(w.wallet.id)
    expect(work.filter((o) => o.status === 'failed').map((o) => [o.kind, o.lastError])).toEqual([])
    // Nothing signed with the expired session after the restart.
    const afterRestart = (await r.requestsOfWallet(w.wallet.id)).filter((q) => q.sessionId === expiring.id)
    expect(afterRestart.map((q) => q.orderId).sort()).toEqual([toModify.id, toCancel.id].sort())

    const open = await eventually(async () => { const o = operatorOpenOrders(h.sandbox, w.wallet.address); return o.length === 2 && o }, 15_000)
    expect(open.every((o) => o.delegationHash === next.delegationHash)).toBe(true)
    const modified = (await r.ordersOfIntent(toModify.intentId!)).find((o) => o.state === 'open')!
    expect([Number(modified.price), Number(modified.size)]).toEqual([1710, 0.2])
    expect(open.map((o) => o.clientOrderId).sort()).toEqual([modified.clientOrderId, (await r.order(fresh.id)).clientOrderId].map((c) => c.toLowerCase()).sort())
    expect((await r.ordersOfIntent(toCancel.intentId!)).map((o) => o.state)).toEqual(['cancelled'])
    await second.close(5_000)
  })
})
