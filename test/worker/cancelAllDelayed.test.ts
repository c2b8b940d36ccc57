/**
 * A CancelAll the operator answered 503 (it took no effect) is resent with backoff. An Order the
 * user placed after asking for the CancelAll must not be cancelled by it when the resend lands
 * later: "cancel everything" means what was there when it was asked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { requestCancelAll } from '../../src/runtime/intake/requestOrderChange.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder } from './support/operator.js'
import { rows } from './support/rows.js'
import { routeSendsThroughProxy } from './support/submitProxy.js'

let h: Harness
let worker: RunningWorker
// The chosen wallet's CancelAll is answered 503 until `refuse` is turned off.
let target = ''
let refuse = true
let refused = 0
let proxy: { close: () => Promise<void> } | undefined

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ streams: false })
  proxy = await routeSendsThroughProxy(worker, h.sandbox.url, async (send, upstream) => {
    if (!refuse || send.family !== 'CancelAll' || send.wallet !== target) return upstream()
    refused++
    return { status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'Unavailable', message: 'busy' } }) }
  })
})
afterAll(async () => {
  await h?.close()
  await proxy?.close()
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
