/**
 * An order its session's end cancelled, whose fills covered its size as Postgres knew it but not
 * the size of a modify the operator accepted and Postgres has not applied (PROTOCOL.md §7's
 * OrderModified carries no price or size; the modify's receipt not stored). The operator's
 * OrderCancelled says the order was not filled there: what it left unfilled is placed again.
 */
import { eq } from 'drizzle-orm'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyEvents } from '../../jobs/applyEvent.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { orders, outbox } from '../../src/store/schema/index.js'
import type { VenueEvent } from '../../src/venue/types.js'
import { activeWallet, eventually, grant, operatorOrder, place, settled } from '../lifecycle/support/lifecycle.js'
import { createHarness, type Harness } from './support/harness.js'
import { startEventProxy } from './support/eventProxy.js'
import { sendWithSessionKey } from './support/operator.js'
import { endSession } from '../../src/sandbox/engine/endSession.js'

let h: Harness
beforeAll(async () => {
  // The maker takes half a unit at a time; events carry only the fields PROTOCOL.md names.
  h = await createHarness({ sandbox: { makerSize: '0.5' } })
  h.sandbox.setFaults({ protocolEventData: true })
})
afterAll(async () => { await h?.close() })

describe('an order counted filled against the size a modify replaced, then cancelled by its session\'s end', () => {
  it('is cancelled, and what the operator left unfilled is placed again (read back first)', async () => {
    const markets = await h.markets()
    const { wallet, signer } = await h.wallet()
    const { order } = await placeLimitOrder(h.db, markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '1' }, new Date())
    let seq = 0
    const event = (type: VenueEvent['type'], data: Record<string, unknown> = {}): VenueEvent =>
      ({ seq: String(++seq), type, wallet: signer.address, at: Date.now(), clientOrderId: order.clientOrderId as Hex, orderId: 'V-grown', data })
    // At the operator: accepted at 1, modified to 2 (the event names no size), filled 1 (1 remaining), then its session was revoked.
    await applyEvents(h.db, wallet.id, [
      event('OrderAccepted'),
      event('OrderModified'),
      event('OrderFilled', { fillId: 'g-1', price: '1900', size: '1', fee: '0.1', remaining: '1' }),
      event('OrderCancelled', { reason: 'sessionRevoked' }),
    ])
    const ofIntent = await h.db.select().from(orders).where(eq(orders.intentId, order.intentId!))
    const cancelled = ofIntent.find((o) => o.id === order.id)!
    const replacement = ofIntent.find((o) => o.id !== order.id)
    expect(cancelled).toMatchObject({ state: 'cancelled', cancelReason: 'sessionRevoked', filled: '1.000000000000000000' })
    expect(replacement).toMatchObject({ state: 'pending', size: '1.000000000000000000' })
    expect(cancelled.replacedBy).toBe(replacement!.id)
    // Its size is the operator's to say: the Order job reads the cancelled order back before placing it.
    const work = await h.db.select().from(outbox).where(eq(outbox.orderId, replacement!.id))
    expect(work.map((w) => w.payload)).toEqual([{ replaces: order.id, readBack: true }])
  })

  it('end to end: the stream was silent meanwhile and brings them in one batch; the rest is live again at the operator', async () => {
    const proxy = await startEventProxy(h.sandbox.url)
    try {
      const worker = await h.startWorker({ operatorUrl: proxy.url, streamIdleTimeoutMs: 1_000, walletSignerFor: () => undefined, maintenanceIntervalMs: 3_600_000 })
      const w = await activeWallet(h)
      const order = await place(h, worker, w.wallet.id, { price: '1990', size: '0.5' })
      await settled(h.db, order.id, 'open')
      // The stream goes silent (it reconnects after a second); meanwhile a rotation grants a new session,
      // a modify to 1 at the mark is accepted (its receipt not stored here) and the maker fills 0.5 of it,
      // and the operator revokes the old session, which cancels the 0.5 left.
      proxy.silenceOpenStreams()
      const { session: next } = await grant(h, w)
      const E18 = 10n ** 18n
      expect((await sendWithSessionKey(worker.deps, w.wallet.id, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: order.clientOrderId as Hex, price: 2000n * E18, size: E18 })).status).toBe(200)
      endSession(h.sandbox.state, h.sandbox.state.delegations.byDelegationHash(w.session.delegationHash!)!, 'sessionRevoked')
      expect(operatorOrder(h.sandbox, w.signer.address, order.clientOrderId)).toMatchObject({ status: 'cancelled', filled: E18 / 2n, size: E18 })
      // The mark moves up, so the rest placed again at 2000 rests rather than fills at once.
      h.sandbox.setMark('ETH-USD', '2100')
      const live = await eventually(async () => {
        const [row] = await h.db.select().from(orders).where(eq(orders.id, order.id))
        if (!row?.replacedBy) return undefined
        const [replacement] = await h.db.select().from(orders).where(eq(orders.id, row.replacedBy))
        // Its session is recorded with its receipt, which the stream's OrderAccepted can overtake.
        return replacement?.state === 'open' && replacement.sessionId !== null && replacement
      }, 15_000)
      expect(live).toMatchObject({ sessionId: next.id, price: '2000.000000000000000000', size: '0.500000000000000000' })
      expect(operatorOrder(h.sandbox, w.signer.address, live.clientOrderId)).toMatchObject({ status: 'open', size: E18 / 2n, price: 2000n * E18 })
    } finally {
      await proxy.close()
    }
  })
})
