/**
 * A CancelAll the operator answered 503 (it took no effect) is resent with backoff. An Order the
 * user placed after asking for the CancelAll must not be cancelled by it when the resend lands
 * later: "cancel everything" means what was there when it was asked.
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancelAll } from '../../src/runtime/intake/requestOrderChange.js'
import { createVenueClient } from '../../src/venue/createVenueClient.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker
// The chosen wallet's CancelAll is answered 503 until `refuse` is turned off.
let target = ''
let refuse = true
let refused = 0
const proxy = createServer((request, response) => void forward(request, response).catch(() => response.destroy()))
async function forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
  let body = ''
  for await (const chunk of request) body += chunk
  const message = body ? (JSON.parse(body) as { family?: string; message?: { wallet?: string } }) : undefined
  if (refuse && message?.family === 'CancelAll' && message.message?.wallet?.toLowerCase() === target) {
    refused++
    response.writeHead(503, { 'content-type': 'application/json' })
    return void response.end(JSON.stringify({ error: { code: 'Unavailable', message: 'busy' } }))
  }
  const upstream = await fetch(new URL(request.url ?? '/', h.sandbox.url), { method: request.method, headers: { 'content-type': 'application/json' }, body: body || undefined })
  response.writeHead(upstream.status, { 'content-type': 'application/json' })
  response.end(await upstream.text())
}

beforeAll(async () => {
  h = await createHarness()
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  worker = await h.startWorker({ streams: false })
  worker.deps.venue.submit = createVenueClient({ baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` }).submit
})
afterAll(async () => {
  await h?.close()
  proxy.closeAllConnections()
  await new Promise((resolve) => proxy.close(resolve))
})

describe('a CancelAll resent after 503s', () => {
  it('cancels the order placed before it, not the one placed after it was asked', async () => {
    const db = rows(h.db)
    const { wallet } = await h.wallet()
    target = wallet.address.toLowerCase()
    const place = async (price: string) => (await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price, size: '0.5' }, new Date())).order
    const before = await place('1990')
    await worker.relay()
    await eventually(async () => (await db.order(before.id)).state === 'open')

    const { outboxId } = await requestCancelAll(h.db, { walletId: wallet.id })
    await worker.relay()
    await eventually(async () => refused >= 1)
    const after = await place('1980')
    await worker.relay()
    // Let the later order's job run while the CancelAll is still refused.
    await new Promise((r) => setTimeout(r, 500))
    refuse = false
    await eventually(async () => (await db.outboxOfWallet(wallet.id)).find((r) => r.id === outboxId)?.status === 'done', 20_000)
    await eventually(async () => (await db.order(after.id)).state !== 'pending' && (await db.order(after.id)).state !== 'submitting')
    expect(operatorOrder(h.sandbox, wallet.address, before.clientOrderId)?.status).toBe('cancelled')
    expect(operatorOrder(h.sandbox, wallet.address, after.clientOrderId)?.status).toBe('open')
    expect(await db.order(after.id)).toMatchObject({ state: 'open' })
  })
})
