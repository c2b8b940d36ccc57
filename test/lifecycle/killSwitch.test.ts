/**
 * The per-wallet kill switch against the sandbox: halting cancels everything
 * at the operator, stops placements that have not gone out, refuses new
 * orders at intake, lets cancels through, and resuming takes orders again.
 * The worker talks to the sandbox through a gate, so a test can keep one
 * signed request on the wire while the switch trips.
 */
import { describe, expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import { revokeAtOperator } from '../../src/runtime/sessions/revokeAtOperator.js'
import { compromiseWallet } from '../../src/runtime/sessions/compromiseWallet.js'
import { outbox } from '../../src/store/schema/index.js'
import { outboxJobId } from '../../src/store/repositories/outboxRepo.js'
import type { Db } from '../../src/store/Database.js'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { familiesFor } from '../../src/core/acl/familiesFor.js'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { createSessionRateLimits } from '../../src/runtime/sessionRateLimits.js'
import { requestCancel, requestCancelAll, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { gatedWorkerForFile } from './support/workerForFile.js'
import { activeWallet, bareWallet, cancelledFor, eventually, fromWallet, grant, operatorOpenOrders, operatorOrder, operatorOrders, place, settled } from './support/lifecycle.js'

const t = gatedWorkerForFile()

/**
 * An Order held on the wire while `ask` asks to cancel everything: the CancelAll reaches the
 * operator first, with nothing to cancel yet. Then the Order is let through.
 */
async function orderLandingAfterCancelAll(ask: (walletId: string) => Promise<unknown>) {
  const w = await activeWallet(t.h)
  const onTheWire = t.gate.hold((q) => q.family === 'Order' && fromWallet(w.wallet.address)(q))
  const order = await place(t.h, t.worker, w.wallet.id)
  await onTheWire.arrived
  await ask(w.wallet.id)
  await t.worker.relay()
  const cancelAll = await eventually(async () => (await t.r.requestsOfWallet(w.wallet.id)).find((q) => q.family === 'CancelAll' && q.status === 'accepted'))
  expect(cancelAll.receipt).toMatchObject({ cancelled: [] })
  onTheWire.release()
  return { w, order }
}

describe('the kill switch', () => {
  it('cancels every open order at the operator, refuses new orders at intake, and lets a cancel through while halted', async () => {
    const w = await activeWallet(t.h)
    const placed = [
      await place(t.h, t.worker, w.wallet.id, { price: '1900' }),
      await place(t.h, t.worker, w.wallet.id, { price: '1910' }),
      await place(t.h, t.worker, w.wallet.id, { market: 'BTC-USD', price: '55000', size: '0.01' }),
    ]
    for (const order of placed) await settled(t.h.db, order.id, 'open')
    expect(operatorOpenOrders(t.h.sandbox, w.wallet.address)).toHaveLength(3)

    // The CancelAll stays on the wire a moment, so the user's own cancel goes first.
    const cancelAll = t.gate.hold((q) => q.family === 'CancelAll' && fromWallet(w.wallet.address)(q))
    const { outboxId: cancelAllId, cancelledLocally } = await haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'user pressed stop' })
    expect(cancelledLocally).toBe(0)
    await t.worker.relay()
    await cancelAll.arrived
    expect((await t.r.wallet(w.wallet.id)).status).toBe('halted')

    const refused = await placeLimitOrder(t.h.db, t.worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date())
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ValidationError)
    expect((refused as ValidationError).field).toBe('walletId')
    expect((refused as ValidationError).message).toContain('the wallet is halted (user pressed stop); resume it before placing orders')

    await requestCancel(t.h.db, { orderId: placed[0]!.id })
    await t.worker.relay()
    const byUser = await settled(t.h.db, placed[0]!.id, 'cancelled')
    expect(byUser.cancelReason).toBe('user')
    expect((await t.r.answeredRequestsOf(placed[0]!.id)).map((q) => `${q.family}:${q.status}`)).toEqual(['Order:accepted', 'CancelOrder:accepted'])

    cancelAll.release()
    for (const order of placed.slice(1)) expect((await settled(t.h.db, order.id, 'cancelled')).cancelReason).toBe('cancelAll')
    expect(operatorOpenOrders(t.h.sandbox, w.wallet.address)).toHaveLength(0)
    expect(operatorOrders(t.h.sandbox, w.wallet.address).map((o) => o.status)).toEqual(['cancelled', 'cancelled', 'cancelled'])
    const [halted] = await t.r.audit(w.wallet.id, 'wallet.halted')
    expect(halted!.details).toEqual({ reason: 'user pressed stop', cancelledLocally: 0, outboxId: cancelAllId })
    // The stream's OrderCancelled events can be applied before the CancelAll's receipt is stored.
    await eventually(async () => (await t.r.outboxOfWallet(w.wallet.id)).every((o) => o.status === 'done'))
  })

  it('with a session whose scope has no CancelAll (the user chose Order and CancelOrder), cancels each order one by one', async () => {
    const w = await activeWallet(t.h, { families: ['Order', 'CancelOrder'] })
    const placed = [
      await place(t.h, t.worker, w.wallet.id, { price: '1900' }),
      await place(t.h, t.worker, w.wallet.id, { market: 'BTC-USD', price: '55000', size: '0.01' }),
    ]
    for (const order of placed) await settled(t.h.db, order.id, 'open')
    // A user's cancel-all of one market, then the kill switch.
    await requestCancelAll(t.h.db, { walletId: w.wallet.id, market: 'BTC-USD' })
    await t.worker.relay()
    // The stream's OrderCancelled (reason user) can be applied before the CancelOrder's receipt, which names it cancelAll.
    await cancelledFor(t.h.db, placed[1]!.id, 'cancelAll')
    expect((await settled(t.h.db, placed[0]!.id, 'open')).state).toBe('open')
    await haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'user pressed stop' })
    await t.worker.relay()
    await cancelledFor(t.h.db, placed[0]!.id, 'halted')
    expect(operatorOpenOrders(t.h.sandbox, w.wallet.address)).toHaveLength(0)

    // Nothing was sent as a CancelAll, nor refused: each order got its CancelOrder.
    const sent = await t.r.requestsOfWallet(w.wallet.id)
    expect(sent.map((q) => `${q.family}:${q.status}`).sort()).toEqual(['CancelOrder:accepted', 'CancelOrder:accepted', 'Order:accepted', 'Order:accepted'])
    const cancelAlls = (await t.r.outboxOfWallet(w.wallet.id)).filter((o) => o.kind === 'CancelAll')
    expect(cancelAlls.map((o) => [o.status, o.lastError])).toEqual([
      ['done', "the session's scope [Order, CancelOrder] has no CancelAll: 1 CancelOrder(s) queued instead"],
      ['done', "the session's scope [Order, CancelOrder] has no CancelAll: 1 CancelOrder(s) queued instead"],
    ])
    expect(await t.r.audit(w.wallet.id, 'CancelAll.refused')).toEqual([])
    expect((await t.r.audit(w.wallet.id, 'CancelAll.oneByOne')).map((a) => a.details)).toEqual([
      { market: 'BTC-USD', scope: ['Order', 'CancelOrder'], queued: 1 },
      { market: '', scope: ['Order', 'CancelOrder'], queued: 1 },
    ])
    // The kill switch reached the operator: the wallet may resume.
    expect(await resumeWallet(t.h.db, { walletId: w.wallet.id })).toEqual({ status: 'active' })
  })

  it('never sends a placement that was queued and unsent when it tripped; after resuming, orders are taken again', async () => {
    // No session yet: the placement is queued (held), not sent.
    const w = await bareWallet(t.h)
    const queued = await place(t.h, t.worker, w.wallet.id)
    await eventually(async () => (await t.r.outboxOf(queued.id))[0]?.status === 'held')

    expect((await haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'risk limit' })).cancelledLocally).toBe(1)
    const cancelled = await t.r.order(queued.id)
    expect([cancelled.state, cancelled.cancelReason]).toEqual(['cancelled', 'halted'])
    expect((await t.r.intentsOf(w.wallet.id)).map((i) => i.status)).toEqual(['cancelled'])

    // The halt's CancelAll waits for a session: until it has reached the operator the wallet is not
    // resumed (sent later, it would cancel the orders placed since).
    await t.worker.relay()
    const killSwitch = await eventually(async () => (await t.r.outboxOfWallet(w.wallet.id)).find((o) => o.kind === 'CancelAll' && o.status === 'held'))
    await expect(resumeWallet(t.h.db, { walletId: w.wallet.id })).rejects.toMatchObject({
      field: 'walletId', rule: `must be a wallet whose kill switch has reached the operator: its CancelAll (work ${killSwitch.id}) is held until the wallet has a session (grant one); resume once it is done`,
    })
    expect((await t.r.wallet(w.wallet.id)).status).toBe('halted')

    // A delegation arriving while halted releases nothing, and the wallet stays halted.
    await grant(t.h, w)
    await t.worker.relay()
    const cancelAll = await eventually(async () => (await t.r.requestsOfWallet(w.wallet.id)).find((q) => q.family === 'CancelAll' && q.status === 'accepted'))
    expect(cancelAll).toBeTruthy()
    expect((await t.r.wallet(w.wallet.id)).status).toBe('halted')

    expect(await resumeWallet(t.h.db, { walletId: w.wallet.id })).toEqual({ status: 'active' })
    const fresh = await place(t.h, t.worker, w.wallet.id)
    await settled(t.h.db, fresh.id, 'open')
    expect((await t.r.requestsOf(queued.id))).toEqual([])
    expect(operatorOrder(t.h.sandbox, w.wallet.address, queued.clientOrderId)).toBeUndefined()
    expect(operatorOpenOrders(t.h.sandbox, w.wallet.address).map((o) => o.clientOrderId)).toEqual([fresh.clientOrderId.toLowerCase()])
    expect((await t.r.order(queued.id)).state).toBe('cancelled')
  })

  it('cancels an order that was on the wire when it tripped and reached the operator after the CancelAll', async () => {
    const { w, order } = await orderLandingAfterCancelAll((walletId) => haltWallet(t.h.db, { walletId, reason: 'user pressed stop' }))
    // The Order landed after the CancelAll: the operator opened it, and the worker must take it down.
    await eventually(async () => (await t.r.requestsOf(order.id)).find((q) => q.family === 'CancelOrder' && q.status === 'accepted'))
    const cancelled = await t.r.order(order.id)
    expect([cancelled.state, cancelled.cancelReason]).toEqual(['cancelled', 'halted'])
    expect(operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)?.status).toBe('cancelled')
    expect((await t.r.answeredRequestsOf(order.id)).map((q) => `${q.family}:${q.status}`)).toEqual(['Order:accepted', 'CancelOrder:accepted'])
    expect((await t.r.wallet(w.wallet.id)).status).toBe('halted')
  })
})

describe('a halted wallet whose session has no CancelAll', () => {
  it('refuses to modify an order still live, and its kill switch cancels the order one by one', async () => {
    const w = await activeWallet(t.h, { families: ['Order', 'ModifyOrder', 'CancelOrder'] })
    const order = await place(t.h, t.worker, w.wallet.id)
    await settled(t.h.db, order.id, 'open')
    // The kill switch's CancelOrder stays on the wire a moment: the order is still live meanwhile.
    const cancel = t.gate.hold((q) => q.family === 'CancelOrder' && fromWallet(w.wallet.address)(q))
    await haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'stop' })
    await t.worker.relay()
    await cancel.arrived
    expect(operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)?.status).toBe('open')
    const refused = await requestModify(t.h.db, t.worker.markets, { orderId: order.id, price: '1900', size: '5' }).then(() => undefined, (error: unknown) => error)
    expect(refused).toBeInstanceOf(ValidationError)
    expect(refused).toMatchObject({ field: 'orderId', message: expect.stringContaining('the wallet is halted (stop); resume it before modifying orders') })
    cancel.release()
    await cancelledFor(t.h.db, order.id, 'halted')
    expect((await t.r.outboxOf(order.id)).map((o) => o.kind)).toEqual(['Order', 'CancelOrder'])
  })
})

describe('a session asked for by what the automation does (needs), modifications only', () => {
  it('can still cancel: the kill switch cancels its orders at the operator', async () => {
    // The API's `needs: { modifications: true }`: placing and modifying resting limit orders.
    const w = await activeWallet(t.h, { families: familiesFor({ modifications: true }) })
    expect(w.session.aclScope).toContain('CancelOrder')
    const order = await place(t.h, t.worker, w.wallet.id)
    await settled(t.h.db, order.id, 'open')
    await haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'stop' })
    await t.worker.relay()
    await settled(t.h.db, order.id, 'cancelled')
    // The operator's OrderCancelled says `user` for a CancelOrder and may be applied before its
    // receipt, which records why the worker sent it.
    await eventually(async () => (await t.r.order(order.id)).cancelReason === 'halted')
    expect(operatorOpenOrders(t.h.sandbox, w.wallet.address)).toEqual([])
  })
})

describe('a modify queued before the kill switch tripped, on an order its CancelAll could not cancel', () => {
  it('is not sent: the order keeps its size at the operator', async () => {
    // A scope with no cancel at all: the kill switch can neither CancelAll nor cancel one by one.
    const w = await activeWallet(t.h, { families: ['Order', 'ModifyOrder'] })
    const order = await place(t.h, t.worker, w.wallet.id)
    await settled(t.h.db, order.id, 'open')
    t.worker.deps.rateLimits.pause(w.session.id, 2_000) // the modify waits its turn
    const { outboxId } = await requestModify(t.h.db, t.worker.markets, { orderId: order.id, price: '1890', size: '5' })
    await haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'stop' })
    await t.worker.relay()
    const modify = await eventually(async () => (await t.r.outboxOf(order.id)).find((o) => o.id === outboxId && o.status === 'done'), 10_000)
    expect(modify.lastError).toBe('wallet halted: modification not applied')
    expect((await t.r.requestsOf(order.id)).map((q) => q.family)).toEqual(['Order'])
    expect(operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'open', size: 10n ** 17n, revision: 0 })
    expect(await t.r.order(order.id)).toMatchObject({ state: 'open', size: order.size, price: order.price })
  })
})

/**
 * Holds the session's work as a 429 would, until `lift`: then the session may send again and the
 * order's delayed job runs at once, and `lift` answers once that run has finished.
 */
function holdRateLimit(sessionId: string) {
  t.worker.deps.rateLimits.pause(sessionId, 10 * 60_000)
  return {
    async lift(orderId: string): Promise<void> {
      t.worker.deps.rateLimits = createSessionRateLimits(t.worker.deps.now)
      const [row] = await t.r.outboxOf(orderId)
      const job = await t.worker.submitQueue.getJob(outboxJobId(row!))
      await job?.promote()
      await eventually(async () => (await job?.getState()) === 'completed')
    },
  }
}

/** Once the placement's job has been claimed and is waiting out the rate limit (delayed, put back to pending, nothing signed). */
async function waitingOutRateLimit(orderId: string): Promise<void> {
  const [row] = await t.r.outboxOf(orderId)
  await eventually(async () => (await (await t.worker.submitQueue.getJob(outboxJobId(row!)))?.getState()) === 'delayed')
  expect((await t.r.order(orderId)).state).toBe('pending')
  expect(await t.r.requestsOf(orderId)).toEqual([])
}

describe('a placement waiting out its session\'s rate limit (claimed, then put back until the wait is over)', () => {
  it('is never sent once the user cancels it', async () => {
    const w = await activeWallet(t.h)
    t.worker.deps.rateLimits.pause(w.session.id, 3_000) // as after a 429 with Retry-After: 3
    // Marketable: it would fill as soon as it reached the operator.
    const { order } = await placeLimitOrder(t.h.db, t.worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '2100', size: '0.1' }, new Date())
    await t.worker.relay()
    await waitingOutRateLimit(order.id)
    await requestCancel(t.h.db, { orderId: order.id })
    await t.worker.relay()
    expect(await settled(t.h.db, order.id, 'cancelled', 'filled')).toMatchObject({ state: 'cancelled', cancelReason: 'user' })
    await eventually(async () => (await t.r.outboxOf(order.id)).every((o) => o.status === 'done'), 10_000)
    expect(operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)).toBeUndefined()
    expect(await t.r.requestsOf(order.id)).toEqual([])
    expect((await t.r.intentsOf(w.wallet.id)).map((i) => i.status)).toEqual(['cancelled'])
  })

  it('is cancelled by a halt, and not placed after the wallet resumes and reconciles', async () => {
    const w = await activeWallet(t.h)
    t.worker.deps.rateLimits.pause(w.session.id, 2_000)
    const order = await place(t.h, t.worker, w.wallet.id)
    await waitingOutRateLimit(order.id)
    await haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'stop' })
    await t.worker.relay()
    expect(await settled(t.h.db, order.id, 'cancelled')).toMatchObject({ cancelReason: 'halted' })
    await eventually(async () => (await t.r.outboxOf(order.id)).every((o) => o.status === 'done'), 10_000)
    await eventually(async () => (await t.r.outboxOfWallet(w.wallet.id)).every((o) => o.status === 'done'), 10_000)
    await resumeWallet(t.h.db, { walletId: w.wallet.id })
    // Before, the order stayed `submitting`, and a reconcile put it back in the queue as never placed.
    await reconcile(t.worker.deps, { walletId: w.wallet.id, orphans: 'adopt', settleMs: 0 })
    await t.worker.relay()
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)).toBeUndefined()
    expect((await t.r.order(order.id)).state).toBe('cancelled')
  })
})

describe('a CancelAll asked while orders placed before it are still on their way', () => {
  it('cancels one that was on the wire and reached the operator after it', async () => {
    const { w, order } = await orderLandingAfterCancelAll((walletId) => requestCancelAll(t.h.db, { walletId, market: 'ETH-USD' }))
    expect(await settled(t.h.db, order.id, 'cancelled')).toMatchObject({ cancelReason: 'cancelAll' })
    expect(operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)?.status).toBe('cancelled')
    expect((await t.r.outboxOf(order.id)).map((o) => [o.kind, o.payload.reason ?? null])).toEqual([['Order', null], ['CancelOrder', 'cancelAll']])
  })

  it('never sends one still queued, and leaves other markets and later orders alone', async () => {
    const w = await activeWallet(t.h)
    t.worker.deps.rateLimits.pause(w.session.id, 2_000) // the placements wait; a CancelAll never does
    const queued = await place(t.h, t.worker, w.wallet.id)
    const otherMarket = await place(t.h, t.worker, w.wallet.id, { market: 'BTC-USD', price: '55000', size: '0.01' })
    await requestCancelAll(t.h.db, { walletId: w.wallet.id, market: 'ETH-USD' })
    await t.worker.relay()
    const later = await place(t.h, t.worker, w.wallet.id, { price: '1910' })
    expect(await settled(t.h.db, queued.id, 'cancelled')).toMatchObject({ cancelReason: 'cancelAll' })
    expect(operatorOrder(t.h.sandbox, w.wallet.address, queued.clientOrderId)).toBeUndefined()
    expect(await t.r.requestsOf(queued.id)).toEqual([])
    await settled(t.h.db, otherMarket.id, 'open')
    await settled(t.h.db, later.id, 'open')
  })
})

describe('a user\'s CancelAll while a rotation re-places its market\'s orders', () => {
  /**
   * A user's CancelAll for a market, asked while a rotation revokes the old session: the revocation
   * cancels the order (`sessionRevoked`), and the order is not placed again under the new key (the
   * replacement would be queued after the CancelAll, and neither the claim nor the late-cancel check
   * would stop it): nothing is live after the user's cancel-all.
   */
  it('an order re-placed by a session rotation while a CancelAll of its market is on its way does not stay live', async () => {
    const w = await activeWallet(t.h)
    const order = await place(t.h, t.worker, w.wallet.id)
    await settled(t.h.db, order.id, 'open')

    // The user cancels everything in ETH-USD; the CancelAll is on the wire a moment.
    const cancelAllWire = t.gate.hold((q) => q.family === 'CancelAll' && fromWallet(w.wallet.address)(q))
    await requestCancelAll(t.h.db, { walletId: w.wallet.id, market: 'ETH-USD' })
    await t.worker.relay()
    await cancelAllWire.arrived

    // Meanwhile a rotation: a new session, and the old one revoked at the operator (which cancels the order).
    const replacementWire = t.gate.hold((q) => q.family === 'Order' && fromWallet(w.wallet.address)(q))
    const { previous } = await grant(t.h, w)
    await revokeAtOperator(t.worker.deps, t.h.keyring, previous[0]!, 'rotated')
    await settled(t.h.db, order.id, 'cancelled')
    const replacedBy = (await t.r.order(order.id)).replacedBy
    if (replacedBy) await replacementWire.arrived

    // The CancelAll lands first (re-signed under the new session), then the replacement if any.
    cancelAllWire.release()
    await eventually(async () => (await t.r.requestsOfWallet(w.wallet.id)).find((q) => q.family === 'CancelAll' && q.status === 'accepted'))
    replacementWire.release()
    if (replacedBy) await settled(t.h.db, replacedBy, 'open', 'cancelled')
    await new Promise((resolve) => setTimeout(resolve, 2_000))

    // The user asked to cancel every ETH-USD order after this one was placed: nothing is live there.
    expect(operatorOpenOrders(t.h.sandbox, w.wallet.address)).toEqual([])
  }, 60_000)
})

describe('an Order landing after the halt\'s CancelAll, its answer lost', () => {
  /**
   * An Order on the wire when the kill switch trips reaches the operator after the CancelAll, and its
   * answer is lost. The retry is stopped (halted) and the order read back as open; the CancelOrder a
   * receipt would have queued is queued then too, so it does not stay live after the halt.
   */
  it('cancels an order that landed after the halt\'s CancelAll even when its answer was lost', async () => {
    const w = await activeWallet(t.h)
    const onTheWire = t.gate.hold((q) => q.family === 'Order' && fromWallet(w.wallet.address)(q))
    const order = await place(t.h, t.worker, w.wallet.id)
    await onTheWire.arrived
    await haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'stop' })
    await t.worker.relay()
    const cancelAll = await eventually(async () => (await t.r.requestsOfWallet(w.wallet.id)).find((q) => q.family === 'CancelAll' && q.status === 'accepted'))
    expect(cancelAll.receipt).toMatchObject({ cancelled: [] })
    // The Order lands now, and its answer is lost.
    t.h.sandbox.setFaults({ dropAfterAccept: 1 })
    onTheWire.release()
    await eventually(async () => operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId))
    t.h.sandbox.setFaults({ dropAfterAccept: 0 })
    // The worker learns the order is open (read-back / stream)...
    await eventually(async () => ['open', 'cancelled'].includes((await t.r.order(order.id)).state), 20_000)
    // ...and must take it down: the wallet is halted.
    await eventually(async () => operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)?.status === 'cancelled', 20_000)
  }, 60_000)
})

describe('a halt under a scope without cancels', () => {
  /**
   * A wallet whose session can neither CancelAll nor CancelOrder (the user chose Order and
   * ModifyOrder). A placement queued before the halt (waiting out a rate limit) does not go out after
   * the wallet is halted and resumed, although the halt's CancelAll was refused locally: a halt's
   * CancelAll marks the halt whatever became of it.
   */
  it('a placement queued before the halt is not sent after the resume', async () => {
    const w = await activeWallet(t.h, { families: ['Order', 'ModifyOrder'] })
    // As after a 429, until `lift` below: a Retry-After of a few seconds could run out before the
    // halt on a loaded machine, and the placement would then be sent before it (not this case).
    const rateLimit = holdRateLimit(w.session.id)
    const order = await place(t.h, t.worker, w.wallet.id)
    await waitingOutRateLimit(order.id)
    const { outboxId } = await haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'stop' })
    await t.worker.relay()
    // The halt's CancelAll cannot be signed under this scope: refused here, and the wallet may resume.
    await eventually(async () => (await t.r.outboxOfWallet(w.wallet.id)).find((o) => o.id === outboxId && o.status === 'failed'))
    await resumeWallet(t.h.db, { walletId: w.wallet.id })
    // The Retry-After is over: the placement's job runs, free to send, and finishes without sending.
    await rateLimit.lift(order.id)
    expect(await t.r.requestsOf(order.id)).toEqual([])
    expect(operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)).toBeUndefined()
  })
})

describe('a resume while a compromise is under way', () => {
  it('is refused: the compromise halts the wallet and queues its CancelAll in one transaction', async () => {
    const w = await activeWallet(t.h)
    // The CancelAll the compromise sends at once is held on the wire; a write of an outbox row through
    // the outer pool (outside any transaction) is slow, as under load.
    const wire = t.gate.hold((q) => q.family === 'CancelAll' && fromWallet(w.wallet.address)(q))
    const db = Object.create(t.h.db) as Db
    db.insert = ((table: Parameters<Db['insert']>[0]) => {
      const builder = t.h.db.insert(table)
      if (table !== outbox) return builder
      return { values: (values: never) => ({ returning: async (fields: never) => {
        await new Promise((resolve) => setTimeout(resolve, 500))
        return builder.values(values).returning(fields)
      } }) }
    }) as unknown as Db['insert']
    const compromise = compromiseWallet({ ...t.worker.deps, db }, t.h.keyring, { walletId: w.wallet.id, reason: 'key in a log' }).then((v) => v, (e: unknown) => e)
    await eventually(async () => (await t.r.wallet(w.wallet.id)).status === 'halted')
    const resumed = await resumeWallet(t.h.db, { walletId: w.wallet.id }).then((v) => v, (e: unknown) => e)
    wire.release()
    await compromise
    expect(resumed).toBeInstanceOf(ValidationError)
    expect((resumed as Error).message).toMatch(/still on its way/)
    expect((await t.r.wallet(w.wallet.id)).status).toBe('halted')
  })
})

describe('a halt of a wallet already halted by a compromise', () => {
  it('keeps the compromise as the reason the wallet shows; the audit log has both', async () => {
    const w = await activeWallet(t.h)
    await compromiseWallet(t.worker.deps, t.h.keyring, { walletId: w.wallet.id, reason: 'key in a log' })
    await haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'belt and braces', outboxId: crypto.randomUUID() })
    expect((await t.r.wallet(w.wallet.id)).haltedReason).toBe('compromise: key in a log')
    expect((await t.r.audit(w.wallet.id, 'wallet.halted')).map((a) => a.details.reason)).toContain('belt and braces')
  })
})
