/**
 * Against an operator whose events carry only the data fields PROTOCOL.md §7 names (the sandbox's
 * `protocolEventData`): no OrderModified price, size or revision, no delegation on a session's end.
 * The worker must need no more than the text: a modified order is read back, not passed over as
 * unappliable, and the session an operator's SessionRevoked ended is found by asking the operator.
 */
import { eq } from 'drizzle-orm'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { familiesFor } from '../../src/core/acl/familiesFor.js'
import { requestCancel, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { events } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { endSession } from '../../src/sandbox/engine/endSession.js'
import { activeWallet, eventually, grant, operatorOrder, place, rows, settled } from '../lifecycle/support/lifecycle.js'
import { type Harness, createHarness } from './support/harness.js'
import { sendWithSessionKey } from './support/operator.js'

let h: Harness
let worker: RunningWorker
let r: ReturnType<typeof rows>
const alerts: { walletId: string; code: string }[] = []

beforeAll(async () => {
  // The maker takes half a unit at a time, so a modify that crosses fills in part.
  h = await createHarness({ sandbox: { makerSize: '0.5' } })
  h.sandbox.setFaults({ protocolEventData: true })
  r = rows(h.db)
  worker = await h.startWorker({
    walletSignerFor: () => undefined,
    maintenanceIntervalMs: 3_600_000,
    alert: (event) => { alerts.push(event) },
  })
})
afterAll(async () => { await h?.close() })

describe('events with only the fields PROTOCOL.md names', () => {
  it('a modified order is read back from the operator: its price, size and revision are the operator\'s, with no unappliable event', async () => {
    const w = await activeWallet(h)
    const order = await place(h, worker, w.wallet.id)
    await settled(h.db, order.id, 'open')
    await requestModify(h.db, worker.markets, { orderId: order.id, price: '1910', size: '0.2' })
    await worker.relay()
    const modified = await eventually(async () => {
      const row = await r.order(order.id)
      return row.price === '1910.000000000000000000' && row.venueRevision === 1 && row
    })
    expect(modified.size).toBe('0.200000000000000000')
    // The event stored; nothing passed over.
    await eventually(async () => (await h.db.select().from(events).where(eq(events.walletId, w.wallet.id))).some((e) => e.type === 'OrderModified'))
    expect(await r.audit(w.wallet.id, 'event.unappliable')).toEqual([])
    expect(alerts.filter((a) => a.walletId === w.wallet.id && a.code === 'EVENT_UNAPPLIABLE')).toEqual([])
  })

  it('a modify whose fill comes with its OrderModified (the fill covers the old size, not the new one) leaves the order partly filled and cancellable', async () => {
    const w = await activeWallet(h)
    const order = await place(h, worker, w.wallet.id, { price: '1990', size: '0.5' })
    await settled(h.db, order.id, 'open')
    // Modified to 1 at the mark, as a modify whose receipt is not stored yet: the maker fills 0.5 at
    // once, and the stream brings the OrderModified (no size) and the fill together.
    const E18 = 10n ** 18n
    const modified = await sendWithSessionKey(worker.deps, w.wallet.id, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: order.clientOrderId as Hex, price: 2000n * E18, size: 1n * E18 })
    expect(modified.status).toBe(200)
    expect(operatorOrder(h.sandbox, w.signer.address, order.clientOrderId)).toMatchObject({ status: 'partiallyFilled', filled: E18 / 2n, size: E18 })
    // Read back: the operator's size and revision.
    const read = await eventually(async () => { const row = await r.order(order.id); return row.venueRevision === 1 && row })
    expect([read.state, read.size, read.filled]).toEqual(['partially_filled', '1.000000000000000000', '0.500000000000000000'])
    // Still live, so the user can cancel it, and the cancel reaches the operator.
    await requestCancel(h.db, { orderId: order.id })
    await worker.relay()
    await eventually(async () => operatorOrder(h.sandbox, w.signer.address, order.clientOrderId)?.status === 'cancelled')
    await settled(h.db, order.id, 'cancelled')
  })

  it('a session the operator ended is found from its SessionRevoked by asking the operator, and recorded as the operator\'s revocation', async () => {
    // Mid-rotation: the old session is rotating out, the new one active (the stream's).
    const w = await activeWallet(h, { families: familiesFor({ limitOrders: true }) })
    const resting = await place(h, worker, w.wallet.id)
    await settled(h.db, resting.id, 'open')
    const { session: next } = await grant(h, w, { families: familiesFor({ limitOrders: true }) })
    expect((await r.session(w.session.id)).status).toBe('rotating')
    // The operator revokes the old one on its own; its event names no delegation.
    endSession(h.sandbox.state, h.sandbox.state.delegations.byDelegationHash(w.session.delegationHash!)!, 'sessionRevoked')
    const ended = await eventually(async () => { const s = await r.session(w.session.id); return s.status !== 'rotating' && s })
    expect([ended.status, ended.statusReason]).toEqual(['revoked', 'operator event SessionRevoked'])
    expect((await r.audit(w.wallet.id, 'session.revoked')).map((a) => (a.details as { sessionId: string }).sessionId)).toEqual([w.session.id])
    expect((await r.session(next.id)).status).toBe('active')
    // The order the revocation cancelled is placed again under the active session.
    await eventually(async () => (await r.ordersOfIntent(resting.intentId!)).find((o) => o.id !== resting.id && o.state === 'open' && o.sessionId === next.id))
  })
})
