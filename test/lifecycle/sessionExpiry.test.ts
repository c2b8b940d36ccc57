/**
 * A delegation running out, with the worker's clock tied to the sandbox's, so
 * `advanceClock` moves time for both: nothing is signed with a session about
 * to expire, its work waits with the wallet awaiting a delegation, the
 * operator's expiry of its orders is followed, and a new grant resumes it all.
 */
import { describe, expect, it } from 'vitest'
import { bareWallet, eventually, grant, operatorDelegation, operatorOpenOrders, place, settled } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const alerts: { walletId: string; code: string }[] = []

const t = workerForFile({
  now: () => t.h.sandbox.now(),
  maintenanceIntervalMs: 3_600_000,
  alert: (event) => { alerts.push(event) },
})

describe('an expiring delegation', () => {
  it('is never used once it is about to expire: work waits for a new delegation, which resumes it', async () => {
    const w = await bareWallet(t.h)
    // The shortest lifetime the pre-live checks allow, and no wallet signer to rotate it.
    const { session: expiring } = await grant(t.h, w, { lifetimeSeconds: 3600 + 60 })
    const expiryMs = expiring.expiryUnix * 1000
    const resting = await place(t.h, t.worker, w.wallet.id)
    await eventually(async () => { const o = await t.r.order(resting.id); return o.state === 'open' && o.sessionId === expiring.id })

    // Ten seconds before expiry the operator would still take it; the worker no longer signs with it.
    t.h.sandbox.advanceClock(expiryMs - 10_000 - t.h.sandbox.now())
    await t.worker.maintainSessions(w.wallet.id)
    expect(alerts).toContainEqual(expect.objectContaining({ walletId: w.wallet.id, code: 'SESSION_EXPIRING' }))
    const late = await place(t.h, t.worker, w.wallet.id, { price: '1850' })
    const held = await eventually(async () => { const [row] = await t.r.outboxOf(late.id); return row?.status === 'held' && row })
    expect(held.lastError).toBe('no active session with time left')
    expect((await t.r.wallet(w.wallet.id)).status).toBe('awaiting_delegation')
    expect((await t.r.order(late.id)).state).toBe('pending')
    expect(operatorDelegation(t.h.sandbox, expiring.delegationHash)?.ended).toBe(false)

    // Past expiry the operator ends the delegation and cancels its orders there.
    t.h.sandbox.advanceClock(20_000)
    expect(operatorDelegation(t.h.sandbox, expiring.delegationHash)?.ended).toBe(true)
    expect(operatorOpenOrders(t.h.sandbox, w.wallet.address)).toEqual([])
    await t.worker.maintainSessions(w.wallet.id)
    expect((await t.r.session(expiring.id)).status).toBe('expired')
    expect((await t.r.wallet(w.wallet.id)).status).toBe('awaiting_delegation')

    // Nothing was ever signed with it within the last 15 s before its expiry (a deadline is signing time + 30 s).
    const signedWithIt = (await t.r.requestsOfWallet(w.wallet.id)).filter((q) => q.sessionId === expiring.id)
    expect(signedWithIt.map((q) => q.orderId)).toEqual([resting.id])
    for (const request of signedWithIt) expect(request.deadline - 30_000).toBeLessThanOrEqual(expiryMs - 15_000)

    // A new delegation releases the waiting work, and its event stream brings the expiry's
    // cancellation, whose remainder is placed again.
    const { session: next } = await grant(t.h, w)
    await t.worker.relay()
    expect((await settled(t.h.db, resting.id, 'cancelled')).cancelReason).toBe('sessionExpired')
    const replacement = await eventually(async () => (await t.r.ordersOfIntent(resting.intentId!)).find((o) => o.id !== resting.id))
    for (const order of [late, replacement]) await eventually(async () => { const o = await t.r.order(order.id); return o.state === 'open' && o.sessionId === next.id })
    const open = operatorOpenOrders(t.h.sandbox, w.wallet.address)
    expect(open.map((o) => o.clientOrderId).sort()).toEqual([late.clientOrderId, replacement.clientOrderId].map((c) => c.toLowerCase()).sort())
    expect(open.every((o) => o.delegationHash === next.delegationHash)).toBe(true)
    expect((await t.r.wallet(w.wallet.id)).status).toBe('active')
    await eventually(async () => (await t.r.outboxOfWallet(w.wallet.id)).every((o) => o.status === 'done'))
    expect((await t.r.answeredRequestsOfWallet(w.wallet.id)).filter((q) => q.sessionId === next.id).map((q) => q.status)).toEqual(['accepted', 'accepted'])
  })
})
