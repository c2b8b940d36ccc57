/**
 * A worker stopped (SIGTERM) while its periodic reconciliation reads a hanging operator (takes
 * connections, never answers) wallet by wallet stops within its shutdown budget, not at its end:
 * the read on the wire may run to the operator timeout, but no further wallet is started once it is
 * told to stop. Each wallet's read waited out the operator timeout, and the worker's close waited
 * for the whole run: it ran into SHUTDOWN_TIMEOUT_MS ('shutdown timed out'). The wallets it left
 * are reconciled by the next run, here the next worker's (each orphan adopted).
 */
import { randomBytes } from 'node:crypto'
import type { Hex } from 'viem'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { lateRelay } from '../support/lateRelay.js'
import { directSender } from './support/directSender.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorOrder, sendWithSessionKey } from './support/operator.js'
import { rows } from './support/rows.js'
import { spawnWorkerProcess } from './support/workerProcess.js'

let h: Harness
let operator: Awaited<ReturnType<typeof lateRelay>>
beforeAll(async () => {
  h = await createHarness()
  operator = await lateRelay(h.sandbox.url)
  await operator.open()
})
afterAll(async () => {
  await h?.close()
  await operator?.close()
})

const SHUTDOWN_TIMEOUT_MS = 8_000
const E18 = 10n ** 18n

it('stopped while its reconciliation waits on a hanging operator, the worker stops before its shutdown timeout, and the next worker reconciles the wallets it left', async () => {
  const db = rows(h.db)
  const wallets = []
  for (let i = 0; i < 5; i++) wallets.push(await h.wallet())
  // Each wallet's read of the hanging operator waits this long for an answer; runs start every second.
  const child = await spawnWorkerProcess(h, { OPERATOR_URL: operator.url, SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), OPERATOR_TIMEOUT_MS: '3000', RECONCILE_INTERVAL_MS: '1000' })

  await operator.hang()
  // An order placed at the operator by another client, which only a reconciliation finds (the
  // worker's stream goes through the hanging relay): one per wallet, sent to the operator directly.
  const direct = await directSender(h)
  const orphans = new Map<string, Hex>()
  for (const { wallet, signer } of wallets) {
    const clientOrderId = `0x${randomBytes(16).toString('hex')}` as Hex
    const answer = await sendWithSessionKey(direct, wallet.id, 'Order', { market: 'ETH-USD', side: 0, price: 1900n * E18, size: E18 / 10n, timeInForce: 0, clientOrderId })
    expect(answer.status).toBe(200)
    expect(operatorOrder(h.sandbox, signer.address, clientOrderId)?.status).toBe('open')
    orphans.set(wallet.id, clientOrderId)
  }
  // A run is under way: its first wallet's read has timed out, the next one's is on the wire.
  await eventually(async () => child.errors.some((line) => line.includes('reconcile failed for wallet')), 20_000)
  const stoppedAt = Date.now()
  expect(await child.stop(), child.errors.join('\n')).toBe(0)
  const stoppedInMs = Date.now() - stoppedAt
  expect(child.errors.filter((line) => line.includes('shutdown timed out'))).toEqual([])
  expect(stoppedInMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS)

  await operator.open()
  await h.startWorker({ operatorUrl: operator.url })
  for (const [walletId, clientOrderId] of orphans) {
    const adopted = await eventually(async () => (await db.ordersOf(walletId)).find((o) => o.clientOrderId.toLowerCase() === clientOrderId), 30_000)
    expect(adopted.state).toBe('open')
    expect((await db.audit(walletId, 'orphan.adopt')).map((a) => a.actor)).toEqual(['reconciler'])
  }
}, 120_000)
