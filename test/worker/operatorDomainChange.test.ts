/**
 * The operator's EIP-712 domain changes while the worker runs (a chain migration, a new verifying
 * contract, a misrouted deployment), over the sandbox's test-only `POST /sandbox/domain`: every
 * request and read the worker signs is then refused SignerMismatch, which must not read as every
 * session's key being compromised.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../src/runtime/createAlertSink.js'
import { createWorkerHealth } from '../../src/runtime/health/workerHealth.js'
import { createOperatorDomainWatch } from '../../src/runtime/operatorDomain.js'
import { createVenueClient } from '../../src/venue/createVenueClient.js'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import type { RunningWorker } from '../../src/worker.js'
import { capturedLog } from '../support/capturedLog.js'
import { answeredRequests, createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrders } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker
let db: ReturnType<typeof rows>
const alerts: Alert[] = []
const signers = new Map<string, WalletSigner>()

beforeAll(async () => {
  h = await createHarness()
  db = rows(h.db)
  // Every stream is cut often, so each reconnects and signs a new read over the domain it knows.
  h.sandbox.setFaults({ streamDropEveryMs: 300 })
  worker = await startWorker()
})
afterAll(async () => { await h?.close() })

function startWorker() {
  return h.startWorker({
    alert: (event) => { alerts.push(event) },
    walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
    maintenanceIntervalMs: 500,
  })
}

async function changeDomain(change: Record<string, unknown>) {
  const response = await fetch(`${h.sandbox.url}/sandbox/domain`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(change) })
  expect(response.status).toBe(200)
}

async function place(on: RunningWorker, walletId: string, price = '1990') {
  const { order } = await placeLimitOrder(h.db, on.markets, { walletId, market: 'ETH-USD', side: 'buy', price, size: '0.5' }, new Date())
  await on.relay()
  return order
}

const opened = (orderId: string) => eventually(async () => (await db.order(orderId)).state === 'open', 20_000)
const codes = (walletId?: string) => alerts.filter((a) => !walletId || a.walletId === walletId).map((a) => a.code)

describe('the operator\'s domain changes while the worker runs', () => {
  it('quarantines no session and raises no KEY_INTEGRITY: OPERATOR_DOMAIN_CHANGED names both domains, the work waits (neither failed nor held), /readyz says so; once the domain is back, the work goes out', async () => {
    const first = await h.wallet()
    const second = await h.wallet()
    await opened((await place(worker, first.wallet.id, '1980')).id)
    const before = h.sandbox.domain

    await changeDomain({ chainId: 8453, verifyingContract: '0x00000000000000000000000000000000000000aa' })
    const orders = [await place(worker, first.wallet.id), await place(worker, second.wallet.id)]

    await eventually(async () => codes(first.wallet.id).includes('OPERATOR_DOMAIN_CHANGED') && codes(second.wallet.id).includes('OPERATOR_DOMAIN_CHANGED'))
    expect(alerts.find((a) => a.code === 'OPERATOR_DOMAIN_CHANGED')!.details).toEqual({
      fromChainId: before.chainId, fromVerifyingContract: before.verifyingContract, toChainId: 8453, toVerifyingContract: '0x00000000000000000000000000000000000000AA',
    })
    // Long enough for several sends, stream reconnects and maintenance runs.
    await new Promise((r) => setTimeout(r, 2_000))
    expect(codes()).not.toContain('KEY_INTEGRITY')
    for (const { session, wallet } of [first, second]) {
      expect((await db.session(session.id)).status).toBe('active')
      expect((await db.wallet(wallet.id)).status).toBe('active')
    }
    for (const order of orders) {
      // Signed and refused before the change was seen, or never claimed after it.
      expect(['submitting', 'pending']).toContain((await db.order(order.id)).state)
      expect((await db.outboxOf(order.id)).map((o) => o.status)).toEqual(['enqueued'])
      expect((await db.requestsOf(order.id)).map((r) => r.status)).not.toContain('rejected')
    }

    const health = createWorkerHealth(capturedLog().log)
    health.started({ db: h.db, redis: worker.redisProbes, operatorDomain: worker.operatorDomain })
    const notReady = await health.ready()
    expect(notReady.statusCode).toBe(503)
    expect(notReady.body).toMatchObject({ status: 'unavailable', checks: { operatorDomain: { ok: false, detail: expect.stringMatching(/chainId 31337 .*to chainId 8453/) } } })

    await changeDomain({ chainId: before.chainId, verifyingContract: before.verifyingContract })
    for (const order of orders) await opened(order.id)
    expect(operatorOrders(h.sandbox, second.wallet.address)).toHaveLength(1)
    await eventually(async () => (await health.ready()).statusCode === 200)
    expect(codes()).not.toContain('KEY_INTEGRITY')
  })

  it('a restart adopts the new domain: bytes signed over the old one and sessions granted under it are not a key integrity problem; with a wallet signer the session is granted anew and the work goes out', async () => {
    // Streams left open (they signed their reads before the change): the order's send is what meets it.
    h.sandbox.setFaults({ streamDropEveryMs: 0 })
    const { wallet, session, signer } = await h.wallet()
    signers.set(wallet.address.toLowerCase(), signer)
    // The operator knows the delegation from before the change (it carries it over).
    const earlier = await place(worker, wallet.id, '1980')
    await opened(earlier.id)
    await changeDomain({ chainId: 10 })
    const order = await place(worker, wallet.id)
    await eventually(async () => codes(wallet.id).includes('OPERATOR_DOMAIN_CHANGED'))
    // Signed over the old domain and refused: kept open, to be sent again. The alert may come first,
    // from another of the wallet's signed reads (a reconciliation, a stream reconnecting) than the order's send.
    const refused = await eventually(async () => { const r = await db.requestsOf(order.id); return r.some((q) => q.errorCode !== null) && r })
    expect(refused.map((r) => `${r.status}:${r.errorCode}`)).toEqual(['signed:SignerMismatch'])

    await worker.close(5_000)
    worker = await startWorker()
    await opened(order.id)
    const sessions = await db.sessionsOf(wallet.id)
    expect(sessions.map((s) => s.status)).toEqual(['revoked', 'active'])
    expect(sessions[0]!.id).toBe(session.id)
    expect(codes()).not.toContain('KEY_INTEGRITY')
    expect(operatorOrders(h.sandbox, wallet.address).map((o) => o.clientOrderId)).toEqual([earlier.clientOrderId, order.clientOrderId])
    // Its receipt may be stored after the stream's OrderOpened was applied: once answered.
    expect((await answeredRequests(() => db.requestsOf(order.id))).map((r) => `${r.status}:${r.errorCode}`)).toEqual(['rejected:SignerMismatch', 'accepted:null'])
  })
})

describe('the domain watch', () => {
  it('reads /v1/info once for every refusal meanwhile, bounded in time: unanswered it concludes nothing; changed, it is not read again until the recheck', async () => {
    const venue = createVenueClient({ baseUrl: h.sandbox.url })
    let reads = 0
    let clock = 0
    const watch = createOperatorDomainWatch({
      venue: { info: () => { reads++; return venue.info() } }, domain: h.sandbox.domain, log: capturedLog().log, now: () => clock, timeoutMs: 3_000, recheckMs: 1_000,
    })
    expect(await watch.stillChanged()).toBeUndefined()
    expect(reads).toBe(0)
    expect(await Promise.all(Array.from({ length: 20 }, () => watch.explainRefusal()))).toEqual(Array(20).fill('sameDomain'))
    expect(reads).toBe(1)

    // A bound a loaded host's answer stays well within (3 s), and an operator three times slower.
    h.sandbox.setFaults({ latencyMs: 9_000 })
    try {
      const started = Date.now()
      expect(await Promise.all([watch.explainRefusal(), watch.explainRefusal()])).toEqual(['unconfirmed', 'unconfirmed'])
      expect(Date.now() - started).toBeLessThan(7_000)
      expect(reads).toBe(2)
    } finally {
      h.sandbox.setFaults({ latencyMs: 0 })
    }

    const before = h.sandbox.domain
    h.sandbox.setDomain({ chainId: 424242 })
    try {
      expect(await watch.explainRefusal()).toBe('domainChanged')
      expect(watch.changed()).toMatchObject({ from: before, to: { chainId: 424242 } })
      expect(await watch.explainRefusal()).toBe('domainChanged')
      expect(await watch.stillChanged()).toBeDefined()
      expect(reads).toBe(3)
    } finally {
      h.sandbox.setDomain({ chainId: before.chainId })
    }
    clock += 1_000
    expect(await watch.stillChanged()).toBeUndefined()
    expect(reads).toBe(4)
  })
})
