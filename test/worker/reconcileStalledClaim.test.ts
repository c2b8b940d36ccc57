/**
 * An Order job that claimed its order and then waited (here on the mark its policy's price band
 * reads) past the reconciler's settle window: the reconciler reads the order as unknown to the
 * operator with no request, and decides to place it again. If the job signs, persists and sends
 * its request before that decision is written, the request went out: it must not be recorded as
 * never placed, nor the order as placed again.
 *
 * And two reconciliations of such an order (another worker's, or the periodic run beside a sweep),
 * both reading it unknown before either placed it again: the first places it again, and its new
 * Order job claims it (`submitting`, nothing signed yet). The second, acting on its older read,
 * must leave it to the next run, not place it a second time.
 */
import pg from 'pg'
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

/**
 * A wallet's order whose Order job, in a worker of its own, claimed it and waits on the mark its
 * policy's price band reads (held at the gate): `submitting`, nothing signed.
 */
async function claimedAndStalled() {
  const { wallet } = await h.wallet()
  await setPolicy(h.db, { walletId: wallet.id, rules: { priceBandBps: 5_000 } })
  const { order } = await placeLimitOrder(h.db, await h.markets(), { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.4' }, new Date())
  const mark = gate.holdReads('/v1/markets/ETH-USD/ticker')
  const worker = await h.startWorker({ operatorUrl: gate.url, streams: false, sweepIntervalMs: 600_000 })
  await mark.arrived
  expect((await db.order(order.id)).state).toBe('submitting')
  return { wallet, order, mark, worker }
}

/** Statements of this database waiting for a lock whose text matches `like`. */
async function waitingOnLock(client: pg.Client, like: string): Promise<boolean> {
  const { rows: found } = await client.query(`select count(*)::int as n from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock' and query ilike $1`, [like])
  return (found[0].n as number) >= 1
}

it('a request persisted and sent while the reconciler decides to place its order again is not recorded as never placed', async () => {
  const wire = gate.hold((request) => request.family === 'Order')
  const { wallet, order, mark, worker } = await claimedAndStalled()

  // Two connections: pg_stat_activity is read once per transaction, so not by the blocker's.
  const blocker = new pg.Client({ connectionString: h.databaseUrl })
  const watcher = new pg.Client({ connectionString: h.databaseUrl })
  await blocker.connect()
  await watcher.connect()
  let reconciled: ReturnType<typeof reconcile> | undefined
  try {
    // Another transaction holds the order a moment: the reconciler, having read it unknown to the
    // operator and without a request, waits to write its decision (its lock, FOR UPDATE, waits for
    // any). KEY SHARE, which the job's own writes before the send (the policy check's
    // policy_passed_at, the request's foreign key) do not wait for.
    await blocker.query('begin')
    await blocker.query('select id from orders where id = $1 for key share', [order.id])
    // Another worker's reconciler (its own connection to the operator).
    reconciled = reconcile({ ...worker.deps, venue: createVenueClient({ baseUrl: h.sandbox.url }) }, { orphans: 'adopt', settleMs: 0 })
    await eventually(() => waitingOnLock(watcher, '%orders%'))
    // Meanwhile the job goes on: signed, persisted, and on the wire.
    mark.release()
    await wire.arrived
    expect((await db.requestsOf(order.id)).map((r) => r.status)).toEqual(['signed'])
  } finally {
    await blocker.query('commit').catch(() => undefined)
    await blocker.end().catch(() => undefined)
    await watcher.end().catch(() => undefined)
    mark.release()
  }
  expect((await reconciled!).failures).toBe(0)
  wire.release()

  const open = await eventually(async () => {
    const o = await db.order(order.id)
    return o.state === 'open' && (await db.outboxOf(order.id)).every((x) => x.status === 'done') && o
  })
  expect(open.clientOrderId).toBe(order.clientOrderId)
  expect(operatorOrders(h.sandbox, wallet.address).map((o) => [o.clientOrderId, o.status])).toEqual([[order.clientOrderId, 'open']])
  // The request the operator took is recorded as taken, and the order was not placed again.
  expect((await db.answeredRequestsOf(order.id)).map((r) => `${r.status}:${r.errorCode}`)).toEqual(['accepted:null'])
  expect(await db.audit(wallet.id, 'order.resubmitted')).toEqual([])
  await worker.close()
})

it('an order placed again and claimed since a second reconciler read it is not placed again by that one', async () => {
  const { wallet, order, mark, worker } = await claimedAndStalled()

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
  await worker.close()
})
