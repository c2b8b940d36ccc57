/**
 * A resting order filled in parts by an operator that pays maker rebates: after the first part its
 * fees are below zero, and the order must still take its next fill (and a cancel). The fees column
 * was read back with the non-negative amount parser, so every later change of the order failed:
 * the second fill never counted and the wallet's event stream stalled behind it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { RunningWorker } from '../../src/worker.js'
import { activeWallet, place, settled } from '../lifecycle/support/lifecycle.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { eq } from 'drizzle-orm'
import { orders } from '../../src/store/schema/index.js'

let h: Harness
let worker: RunningWorker

beforeAll(async () => {
  // A 2 bps rebate to the maker, who takes 0.05 ETH per sweep of the mark.
  h = await createHarness({ sandbox: { fees: { takerBps: 5, makerBps: -2 }, makerSize: '0.05' } })
  worker = await h.startWorker()
})
afterAll(async () => { await h?.close() })

it('counts every part of a resting order filled with maker rebates', async () => {
  const w = await activeWallet(h)
  const order = await place(h, worker, w.wallet.id, { price: '1900', size: '0.1' })
  await settled(h.db, order.id, 'open')
  expect(h.sandbox.setMark('ETH-USD', '1900')).toBe(1)
  const half = await settled(h.db, order.id, 'partially_filled')
  expect([half.filled, half.fees]).toEqual(['0.050000000000000000', '-0.019000000000000000'])

  // The second sweep fills the rest, with its own rebate.
  expect(h.sandbox.setMark('ETH-USD', '1900')).toBe(1)
  const filled = await eventually(async () => {
    const [row] = await h.db.select().from(orders).where(eq(orders.id, order.id))
    return row?.state === 'filled' && row
  })
  expect([filled.filled, filled.fees, filled.averagePrice]).toEqual(['0.100000000000000000', '-0.038000000000000000', '1900.000000000000000000'])
})
