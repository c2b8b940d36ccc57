/**
 * A 200 to `POST /v1/requests` whose body carries no receipt (empty, as from a proxy that lost it):
 * the operator took the request, so its outcome is unknown, never a refusal. Read as a refusal, a
 * cancel asked meanwhile closed the placement as never sent and cancelled the order here, while it
 * stayed live at the operator. The same for a receipt whose `status` is not `accepted` (the only
 * one PROTOCOL.md §5 gives): it was taken as accepted, whatever it said.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel } from '../../src/runtime/intake/requestOrderChange.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'
import { routeSendsThroughProxy } from './support/submitProxy.js'

let h: Harness
let worker: RunningWorker
// The answer to a chosen wallet's Order comes back 200 with `answerOrder(sandbox's body)`; the rest as the sandbox gave it.
let changedFor = ''
let answerOrder: (body: string) => string = () => ''
let proxy: { close: () => Promise<void> } | undefined

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ streams: false })
  proxy = await routeSendsThroughProxy(worker, h.sandbox.url, async (send, upstream) => {
    const answer = await upstream()
    return answer !== 'drop' && answer.status >= 200 && answer.status < 300 && send.family === 'Order' && send.wallet === changedFor ? { status: 200, contentType: answer.contentType, body: answerOrder(answer.body) } : answer
  })
})
afterAll(async () => {
  await h?.close()
  await proxy?.close()
})

/** The sandbox's receipt with its status replaced. */
const withStatus = (status: string) => (body: string) => {
  const answer = JSON.parse(body) as { receipt: Record<string, unknown> }
  return JSON.stringify({ receipt: { ...answer.receipt, status } })
}

describe.each([
  { answer: 'without a receipt', body: () => '' },
  { answer: "with a receipt whose status is 'pending'", body: withStatus('pending') },
  { answer: "with a receipt whose status is 'rejected'", body: withStatus('rejected') },
])('a 200 $answer', ({ body }) => {
  it('leaves the placement unknown; a cancel asked meanwhile reads it back and cancels it at the operator', async () => {
    const db = rows(h.db)
    const { wallet } = await h.wallet()
    changedFor = wallet.address.toLowerCase()
    answerOrder = body
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
    await worker.relay()
    // The operator has the order; the worker heard a 200 it could not read.
    await eventually(async () => (await db.requestsOf(order.id))[0]?.errorCode)
    expect(operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status).toBe('open')

    await requestCancel(h.db, { orderId: order.id })
    await worker.relay()
    await eventually(async () => (await db.outboxOf(order.id)).every((r) => r.status === 'done'))
    // Never cancelled here while live there.
    await eventually(async () => operatorOrder(h.sandbox, wallet.address, order.clientOrderId)?.status === 'cancelled')
    expect(await db.order(order.id)).toMatchObject({ state: 'cancelled', cancelReason: 'user' })
    expect((await db.requestsOf(order.id)).map((r) => `${r.family}:${r.status}`)).toEqual(['Order:unknown', 'CancelOrder:accepted'])
  })
})
