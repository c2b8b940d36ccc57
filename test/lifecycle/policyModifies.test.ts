/**
 * maxDailyNotional against modifies on their way: a modify changes its order's price and size only
 * once the operator accepts it, so while it is checked, signed or on the wire the order's row still
 * holds its old values. Each modify's check must count the others let through at their new values.
 */
import { eq } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { createPolicyCheck } from '../../src/runtime/policy/createPolicyCheck.js'
import { setPolicy } from '../../src/runtime/policy/setPolicy.js'
import { claimPendingOrders } from '../../src/store/repositories/claimPendingOrders.js'
import { outbox } from '../../src/store/schema/index.js'
import { gatedWorkerForFile } from './support/workerForFile.js'
import { activeWallet, eventually, fromWallet, operatorOrder, place, settled } from './support/lifecycle.js'

const t = gatedWorkerForFile()

/** Queues a modify of the order and relays it; answers its outbox id. */
async function modify(orderId: string, size: string): Promise<string> {
  const { outboxId } = await requestModify(t.h.db, t.worker.markets, { orderId, price: '1900', size })
  await t.worker.relay()
  return outboxId
}

/** The modify's outbox row once it is answered here: done or failed. */
function finished(orderId: string, outboxId: string) {
  return eventually(async () => {
    const row = (await t.r.outboxOf(orderId)).find((o) => o.id === outboxId)
    return row && (row.status === 'done' || row.status === 'failed') && row
  }, 15_000)
}

// `before`: the first modify is checked under the policy (and marks its order). `after`: it was
// signed while the wallet had no policy, so nothing marked it; it is on its way all the same.
it.each(['before', 'after'])('counts a modify on the wire at its new notional (policy set %s it was checked): two modifies checked before either is accepted do not both pass maxDailyNotional', async (policySet) => {
  const w = await activeWallet(t.h)
  // Two orders of 190 (0.1 at 1900): 380 today.
  const first = await place(t.h, t.worker, w.wallet.id)
  const second = await place(t.h, t.worker, w.wallet.id)
  await settled(t.h.db, first.id, 'open')
  await settled(t.h.db, second.id, 'open')
  const policy = () => setPolicy(t.h.db, { walletId: w.wallet.id, rules: { maxDailyNotional: '1000' } })
  if (policySet === 'before') await policy()

  // The first modify (to 570) is checked, signed and sent; its answer is held on the wire.
  const wire = t.gate.hold((q) => q.family === 'ModifyOrder' && fromWallet(w.wallet.address)(q))
  const firstModify = await modify(first.id, '0.3')
  await wire.arrived
  if (policySet === 'after') await policy()

  // The second (to 570 too) is checked meanwhile: 570 + 570 is above 1000.
  const secondModify = await modify(second.id, '0.3')
  const refused = await eventually(async () => {
    const row = (await t.r.outboxOf(second.id)).find((o) => o.id === secondModify)
    const signed = (await t.r.requestsOf(second.id)).some((q) => q.family === 'ModifyOrder')
    return (row?.status === 'failed' || signed) && { row: row!, signed }
  }, 15_000)
  expect(refused.signed).toBe(false)
  expect(refused.row.lastError).toBe("LOCAL.POLICY: wallet policy maxDailyNotional: today's notional would reach 1140, above 1000")

  wire.release()
  expect((await finished(first.id, firstModify)).status).toBe('done')
  expect(Number((await t.r.order(first.id)).size)).toBe(0.3)
  expect(operatorOrder(t.h.sandbox, w.wallet.address, second.clientOrderId)).toMatchObject({ status: 'open', revision: 0 })

  // Accepted, the first order counts at its own values (570), once: a modify of the second to 380 fits.
  const fits = await modify(second.id, '0.2')
  const applied = await finished(second.id, fits)
  expect([applied.status, applied.lastError]).toEqual(['done', null])
  expect(Number((await t.r.order(second.id)).size)).toBe(0.2)
})

it('counts a modify let through and not signed yet at its new notional', async () => {
  const w = await activeWallet(t.h)
  const first = await place(t.h, t.worker, w.wallet.id)
  const second = await place(t.h, t.worker, w.wallet.id)
  await settled(t.h.db, first.id, 'open')
  await settled(t.h.db, second.id, 'open')
  await setPolicy(t.h.db, { walletId: w.wallet.id, rules: { maxDailyNotional: '1000' } })
  // Nothing runs the work queued below: the two checks are made here, as two jobs make them, the
  // first let through and not signed when the second is checked.
  await t.worker.close()
  const firstModify = await requestModify(t.h.db, t.worker.markets, { orderId: first.id, price: '1900', size: '0.3' })
  const secondModify = await requestModify(t.h.db, t.worker.markets, { orderId: second.id, price: '1900', size: '0.3' })
  const check = createPolicyCheck({ db: t.h.db, venue: t.worker.deps.venue, now: () => Date.now() })
  const modifyCheck = (orderId: string, outboxId: string) => check({ walletId: w.wallet.id, sessionId: w.session.id, orderId, outboxId, family: 'ModifyOrder', market: 'ETH-USD', side: 0, price: 1900n * 10n ** 18n, size: 3n * 10n ** 17n })
  expect(await modifyCheck(first.id, firstModify.outboxId)).toBeNull()
  expect(await modifyCheck(second.id, secondModify.outboxId)).toBe("wallet policy maxDailyNotional: today's notional would reach 1140, above 1000")
})

// The worker is closed (above): the work is claimed and checked here, as its jobs do.
it('does not count a modify before its own check, though its order was checked after it was queued (and it is held meanwhile)', async () => {
  const w = await activeWallet(t.h)
  await setPolicy(t.h.db, { walletId: w.wallet.id, rules: { maxDailyNotional: '1000' } })
  const check = createPolicyCheck({ db: t.h.db, venue: t.worker.deps.venue, now: () => Date.now() })
  const placementCheck = (orderId: string) => check({ walletId: w.wallet.id, sessionId: w.session.id, orderId, family: 'Order', market: 'ETH-USD', side: 0, price: 1900n * 10n ** 18n, size: 10n ** 17n })
  /** An order of 190 placed and claimed: on its way, its placement not checked yet. */
  const claimed = async () => {
    const { order } = await placeLimitOrder(t.h.db, t.worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1900', size: '0.1' }, new Date(t.h.sandbox.now()))
    const [placement] = await t.r.outboxOf(order.id)
    expect(await claimPendingOrders(t.h.db, [placement!.id], 0)).toHaveLength(1)
    return order
  }
  // The user modifies an order on its way to 950: not before its placement, so the modify waits for
  // the order's answer and for its own check.
  const first = await claimed()
  const { outboxId } = await requestModify(t.h.db, t.worker.markets, { orderId: first.id, price: '1900', size: '0.5' })
  // The placement is checked and let through (which marks its order), and the modify is then held
  // for a scope change, as under a session without ModifyOrder, before its check.
  expect(await placementCheck(first.id)).toBeNull()
  await t.h.db.update(outbox).set({ status: 'held', lastError: 'awaiting a session whose scope covers ModifyOrder' }).where(eq(outbox.id, outboxId))

  // Another order of 190: today's notional is 190 + 190. Counted at the held modify's 950 (never
  // checked, and maybe never let through), it was refused, failed for good.
  const second = await claimed()
  expect(await placementCheck(second.id)).toBeNull()
  // The modify, released and checked, counts the second order: 190 + 950 is above the limit.
  const modifyCheck = await check({ walletId: w.wallet.id, sessionId: w.session.id, orderId: first.id, outboxId, family: 'ModifyOrder', market: 'ETH-USD', side: 0, price: 1900n * 10n ** 18n, size: 5n * 10n ** 17n })
  expect(modifyCheck).toBe("wallet policy maxDailyNotional: today's notional would reach 1140, above 1000")
})
