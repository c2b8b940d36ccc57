/**
 * Two reconciliations of the same order (another worker's, or the periodic run beside a sweep),
 * both reading it unknown to the operator before either placed it again: the first places it
 * again, and its new Order job claims it (`submitting`, nothing signed yet). The second, acting on
 * its older read, must leave it to the next run, not place it a second time.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { setPolicy } from '../../src/runtime/policy/setPolicy.js'
import { createVenueClient } from '../../src/venue/createVenueClient.js'
import { type GateProxy, startGateProxy } from '../lifecycle/support/gateProxy.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrders } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let gate: GateProxy
let db: ReturnType<typeof rows>

beforeAll(async () => {
  h = await createHarness()
  gate = await startGateProxy(h.sandbox.url)
  db = rows(h.db)
})
afterAll(async () => {
  await h?.close()
  await gate?.close()
})

it('an order placed again and claimed since a second reconciler read it is not placed again by that one', async () => {
  const { wallet } = await h.wallet()
  // A price band: the policy check reads the mark from the operator, which is held below.
  await setPolicy(h.db, { walletId: wallet.id, rules: { priceBandBps: 5_000 } })
  const { order } = await placeLimitOrder(h.db, await h.markets(), { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.4' }, new Date())
  const mark = gate.holdReads('/v1/markets/ETH-USD/ticker')
  const worker = await h.startWorker({ operatorUrl: gate.url, streams: false, sweepIntervalMs: 600_000 })
  // The job claimed the order and waits on its policy check: `submitting`, nothing signed.
  await mark.arrived
  expect((await db.order(order.id)).state).toBe('submitting')

  let stale: ReturnType<typeof reconcile> | undefined
  try {
    // One reconciler reads the order unknown to the operator; its read by cloid is held on the wire.
    const read = gate.holdReads(`/v1/orders/${order.clientOrderId.toLowerCase()}`)
    stale = reconcile({ ...worker.deps, venue: createVenueClient({ baseUrl: gate.url }) }, { orphans: 'adopt', settleMs: 0 })
    await read.arrived
    // Another one, reading meanwhile, places the order again, and its new Order job claims it.
    const first = await reconcile({ ...worker.deps, venue: createVenueClient({ baseUrl: h.sandbox.url }) }, { orphans: 'adopt', settleMs: 0 })
    expect(first.failures).toBe(0)
    expect(await db.audit(wallet.id, 'order.resubmitted')).toHaveLength(1)
    await eventually(async () => (await db.order(order.id)).state === 'submitting')
    read.release()
    expect((await stale).failures).toBe(0)
    // Placed again once: one new Order row, one audit entry.
    expect(await db.audit(wallet.id, 'order.resubmitted')).toHaveLength(1)
    expect((await db.outboxOf(order.id)).filter((row) => row.kind === 'Order')).toHaveLength(2)
    expect((await db.order(order.id)).state).toBe('submitting')
  } finally {
    mark.release()
    await stale?.catch(() => undefined)
  }

  const open = await eventually(async () => {
    const o = await db.order(order.id)
    return o.state === 'open' && (await db.outboxOf(order.id)).every((x) => x.status === 'done') && o
  })
  expect(open.clientOrderId).toBe(order.clientOrderId)
  expect(operatorOrders(h.sandbox, wallet.address).map((o) => [o.clientOrderId, o.status])).toEqual([[order.clientOrderId, 'open']])
})
