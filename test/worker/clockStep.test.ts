/**
 * The worker's clock steps after start-up (an NTP correction, a VM resumed): the offset to the
 * operator's clock measured at start is wrong from then on, and every deadline signed on it is
 * already past. DeadlineExpired makes the worker measure the operator's clock again before it signs
 * anew, rather than re-sign on the same wrong clock until it gives up, attempt after attempt. A
 * step forward makes every deadline too far ahead, which the operator refuses InvalidRequest: that
 * refusal, when the deadline alone explains it, is signed again the same way, not taken as final.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { RunningWorker } from '../../src/worker.js'
import { answeredRequests, createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrders } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker
let stepMs = 0
beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ streams: false, now: () => Date.now() + stepMs })
})
afterAll(async () => { await h?.close() })

/** Places a buy for the wallet and waits for it to rest: answers its requests, `status:errorCode` each. */
async function placedOpen(wallet: { id: string }): Promise<string[]> {
  const db = rows(h.db)
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.1' }, new Date())
  await worker.relay()
  await eventually(async () => (await db.order(order.id)).state === 'open')
  return (await answeredRequests(() => db.requestsOf(order.id))).map((r) => `${r.status}:${r.errorCode}`)
}

describe('a worker clock that steps back after start-up', () => {
  it('measures the operator\'s clock again on DeadlineExpired, and the order goes through', async () => {
    const { wallet } = await h.wallet()
    // Measured in step at start; now 90 s behind: a 30 s deadline is a minute past on arrival.
    stepMs = -90_000
    expect(await placedOpen(wallet)).toEqual(['rejected:DeadlineExpired', 'accepted:null'])
    expect(operatorOrders(h.sandbox, wallet.address)).toHaveLength(1)
  })
})

describe('a worker clock that steps forward after start-up', () => {
  it('measures the operator\'s clock again when a deadline is refused as too far ahead, and the order goes through', async () => {
    const { wallet } = await h.wallet()
    // Now 90 s ahead of the clock last measured: a 30 s deadline is two minutes ahead on arrival,
    // past the operator's maxDeadlineMs (60 s), which it refuses InvalidRequest.
    stepMs += 180_000
    expect(await placedOpen(wallet)).toEqual(['rejected:InvalidRequest', 'accepted:null'])
    expect(operatorOrders(h.sandbox, wallet.address)).toHaveLength(1)
  })
})

describe('a signed read after the worker clock steps, with nothing sent since', () => {
  it('measures the operator\'s clock again when the read\'s deadline is refused, and reads', async () => {
    const { wallet } = await h.wallet()
    await placedOpen(wallet)
    const session = (await worker.deps.sessions.active(wallet.id))!
    // Back two minutes: the read's deadline is past on arrival. No request goes out to notice it
    // first (reconciliation, a portfolio or a read-back read alone).
    stepMs -= 120_000
    const open = await worker.deps.venue.openOrders(worker.deps.sessions.readAuth(session))
    expect(open).toHaveLength(1)
  })
})
