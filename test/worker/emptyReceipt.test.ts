/**
 * A 200 to `POST /v1/requests` whose body carries no receipt (empty, as from a proxy that lost it):
 * the operator took the request, so its outcome is unknown, never a refusal. Read as a refusal, a
 * cancel asked meanwhile closed the placement as never sent and cancelled the order here, while it
 * stayed live at the operator.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancel } from '../../src/runtime/intake/requestOrderChange.js'
import { createVenueClient } from '../../src/venue/createVenueClient.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker
// Forwards every request to the sandbox; the answer to a chosen wallet's Order comes back 200 with no body.
let emptyFor = ''
const proxy = createServer((request, response) => void forward(request, response).catch(() => response.destroy()))
async function forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
  let body = ''
  for await (const chunk of request) body += chunk
  const upstream = await fetch(new URL(request.url ?? '/', h.sandbox.url), { method: request.method, headers: { 'content-type': 'application/json' }, body: body || undefined })
  const text = await upstream.text()
  const message = body ? (JSON.parse(body) as { family?: string; message?: { wallet?: string } }) : undefined
  if (upstream.ok && message?.family === 'Order' && message.message?.wallet?.toLowerCase() === emptyFor) {
    response.writeHead(200, { 'content-length': '0' })
    return void response.end()
  }
  response.writeHead(upstream.status, { 'content-type': 'application/json' })
  response.end(text)
}

beforeAll(async () => {
  h = await createHarness()
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  worker = await h.startWorker({ streams: false })
  // Only the sends go through the proxy; reads go straight to the sandbox.
  worker.deps.venue.submit = createVenueClient({ baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` }).submit
})
afterAll(async () => {
  await h?.close()
  proxy.closeAllConnections()
  await new Promise((resolve) => proxy.close(resolve))
})

describe('a 200 without a receipt', () => {
  it('leaves the placement unknown; a cancel asked meanwhile reads it back and cancels it at the operator', async () => {
    const db = rows(h.db)
    const { wallet } = await h.wallet()
    emptyFor = wallet.address.toLowerCase()
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
