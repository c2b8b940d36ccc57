/**
 * Several workers on the same queues and database: two in this process and
 * one as its own process (`src/main/worker.ts`). Every order is placed exactly
 * once, a Modify or Cancel never reaches the operator before its Order (a
 * Cancel may pass a Modify queued before it), one process at a time consumes a
 * wallet's events (leases), and every order ends as the operator has it.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { parseAmount } from '../../src/core/money/decimal.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel, requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { type OrderRow, streamCursors } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorEvents, operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'
import { type WorkerProcess, spawnWorkerProcess } from './support/workerProcess.js'

const WALLETS = 4
const ORDERS = 200
const statusOf = { open: 'open', partiallyFilled: 'partially_filled', filled: 'filled', cancelled: 'cancelled' } as const

let h: Harness
let child: WorkerProcess | undefined

beforeAll(async () => { h = await createHarness() })
afterAll(async () => {
  await child?.stop()
  await h?.close()
})

it(`${ORDERS} orders on ${WALLETS} wallets through three workers: placed once, in order, consumed by one process per wallet`, async () => {
  const db = rows(h.db)
  const wallets = await Promise.all(Array.from({ length: WALLETS }, () => h.wallet()))
  child = await spawnWorkerProcess(h)
  const inProcess: RunningWorker[] = [await h.startWorker({ concurrency: 16 }), await h.startWorker({ concurrency: 16 })]

  // Sampled all along: no wallet streams in both in-process workers, and the operator never
  // serves more than one stream per wallet (which covers the child process too).
  const overlaps: string[] = []
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const [a, b] = inProcess.map((w) => new Set(w.streams?.wallets()))
      for (const id of a!) if (b!.has(id)) overlaps.push(`wallet ${id} streamed by both in-process workers`)
      if (h.sandbox.streamCount() > WALLETS) overlaps.push(`${h.sandbox.streamCount()} streams open for ${WALLETS} wallets`)
      await new Promise((r) => setTimeout(r, 20))
    }
  })()

  const placed: { order: OrderRow; modify: boolean; cancel: boolean }[] = []
  const markets = inProcess[0]!.markets
  // One intake lane per wallet, as concurrent users would be.
  await Promise.all(wallets.map(async ({ wallet }, lane) => {
    for (let i = lane; i < ORDERS; i += WALLETS) {
      const { order } = await placeLimitOrder(h.db, markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: String(1900 + (i % 100)), size: '0.01' }, new Date())
      const modify = i % 5 === 0
      const cancel = i % 7 === 0
      // Queued right behind the Order, before anything was sent: they must wait for it.
      if (modify) await requestModify(h.db, markets, { orderId: order.id, price: String(1890 + (i % 100)), size: '0.02' })
      if (cancel) await requestCancel(h.db, { orderId: order.id })
      placed.push({ order, modify, cancel })
    }
  }))
  expect(placed).toHaveLength(ORDERS)
  await eventually(async () => (await Promise.all(wallets.map((w) => db.outboxOfWallet(w.wallet.id)))).flat().every((r) => r.status === 'done'), 60_000)
  // Fill the resting orders priced at or above 1950, while the streams run.
  h.sandbox.setMark('ETH-USD', '1950')
  h.sandbox.setMark('ETH-USD', '2000')
  for (const { wallet, signer } of wallets) {
    const head = operatorEvents(h.sandbox, signer.address).length
    await eventually(async () => (await h.db.select().from(streamCursors).where(eq(streamCursors.walletId, wallet.id)))[0]?.lastSeq === head, 30_000)
  }
  sampling = false
  await sampler
  expect(overlaps).toEqual([])

  for (const { order, modify, cancel } of placed) {
    const address = wallets.find((w) => w.wallet.id === order.walletId)!.signer.address
    const remote = operatorOrder(h.sandbox, address, order.clientOrderId)
    if (cancel && !remote) {
      // Cancelled before its placement was signed: never sent, nothing signed for it.
      expect(await db.order(order.id)).toMatchObject({ state: 'cancelled', cancelReason: 'user' })
      expect(await db.requestsOf(order.id)).toEqual([])
      continue
    }
    expect(remote, `order ${order.id} at the operator`).toBeDefined()
    const trail = operatorEvents(h.sandbox, address).filter((e) => e.clientOrderId === order.clientOrderId).map((e) => e.type)
    // Placed exactly once, and accepted before anything else happened to it.
    expect(trail.filter((t) => t === 'OrderAccepted')).toHaveLength(1)
    expect(trail[0]).toBe('OrderAccepted')
    const local = await db.order(order.id)
    expect(local.state).toBe(statusOf[remote!.status])
    expect(parseAmount('filled', local.filled)).toBe(remote!.filled)
    expect(local.venueRevision).toBe(remote!.revision)
    // A cancel does not wait for a modify queued before it: with both, the modify is applied only if
    // it reached the open order first.
    const modified = remote!.revision === 1
    if (modify && !cancel) expect(modified).toBe(true)
    if (!modify) expect(remote!.revision).toBe(0)
    if (cancel) expect(remote!.status).toBe('cancelled')
    const accepted = (await db.requestsOf(order.id)).filter((r) => r.status === 'accepted').map((r) => r.family).sort()
    expect(accepted).toEqual([...(cancel ? ['CancelOrder'] : []), ...(modified ? ['ModifyOrder'] : []), 'Order'])
  }

  // Nothing failed along the way: no attempt of any job threw.
  const jobs = await inProcess[0]!.submitQueue.getCompleted(0, -1)
  expect(jobs.length).toBeGreaterThanOrEqual(ORDERS)
  expect(jobs.filter((job) => job.stacktrace?.length).map((job) => job.stacktrace![0])).toEqual([])
  expect(await child.stop()).toBe(0)
  child = undefined
}, 120_000)
