/**
 * A request whose answer was lost, resent, and the resend refused by something in front of the
 * operator (a proxy's or WAF's 403 page, no protocol error code). The refusal says nothing of the
 * lost send, which the operator may have accepted: read as the operator's InvalidRequest, the order
 * was rejected here (the user told it is gone) while it stood live at the operator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'
import { routeSendsThroughProxy } from './support/submitProxy.js'

let h: Harness
let worker: RunningWorker
// The chosen wallet's sends: the first reaches the operator and its answer is lost, the second is
// refused by the proxy with an HTML page, the rest go through.
let target = ''
let sends = 0
let proxy: { close: () => Promise<void> } | undefined

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ streams: false })
  proxy = await routeSendsThroughProxy(worker, h.sandbox.url, async (send, upstream) => {
    const n = send.wallet === target ? ++sends : 0
    if (n === 2) return { status: 403, contentType: 'text/html', body: '<html><body>403 Forbidden</body></html>' }
    const answer = await upstream()
    return n === 1 ? 'drop' : answer
  })
})
afterAll(async () => {
  await h?.close()
  await proxy?.close()
})

describe('a resend after a lost answer, refused by a proxy (4xx without a protocol code)', () => {
  it('never rejects the order while the lost send may be live: the same bytes go out again and are answered duplicate', async () => {
    const db = rows(h.db)
    const { wallet } = await h.wallet()
    target = wallet.address.toLowerCase()
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
    await worker.relay()
    await eventually(async () => sends >= 2)
    // The operator took the first send.
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status).toBe('open')
    const outcome = await eventually(async () => {
      const [row] = await db.outboxOf(order.id)
      return row && ['done', 'failed'].includes(row.status) && row
    }, 20_000)
    expect(outcome).toMatchObject({ status: 'done' })
    expect(await db.order(order.id)).toMatchObject({ state: 'open' })
    expect((await db.requestsOf(order.id)).map((r) => `${r.status}:${String(r.duplicate)}`)).toEqual(['accepted:true'])
  })
})
