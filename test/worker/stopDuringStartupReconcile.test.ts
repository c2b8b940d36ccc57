/**
 * A worker stopped (SIGTERM) while its start-up reconciliation reads a hanging operator (its reads
 * held unanswered, everything else answered) wallet by wallet stops as one stopped while it waits
 * for the operator does: exit 0, without starting, and within its shutdown budget. The read on the
 * wire may run to the operator timeout, but no further wallet is started. The pass ran on through
 * every wallet, each read waiting out the operator timeout, and then the worker started only to be
 * closed. The next worker's start-up reconciliation covers every wallet (each orphan adopted).
 */
import { randomBytes } from 'node:crypto'
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Hex } from 'viem'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { directSender } from './support/directSender.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'
import { spawnLoggingWorker } from './support/loggingWorker.js'
import { sendWithSessionKey } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let proxy: ReturnType<typeof createServer>
let proxyUrl: string
beforeAll(async () => {
  h = await createHarness()
  // The operator answers /v1/info and the like (start-up gets past its wait for the operator), and
  // holds its signed reads of orders unanswered.
  proxy = createServer((request, response) => void relay(request, response).catch(() => response.destroy()))
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
})
afterAll(async () => {
  proxy?.closeAllConnections()
  await new Promise((resolve) => proxy?.close(resolve))
  await h?.close()
})

async function relay(request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.url?.startsWith('/v1/orders')) return
  let body = ''
  for await (const chunk of request) body += chunk
  const reply = await fetch(new URL(request.url ?? '/', h.sandbox.url), { method: request.method, headers: { 'content-type': 'application/json' }, body: body || undefined })
  const text = await reply.text()
  response.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  response.end(text)
}

const SHUTDOWN_TIMEOUT_MS = 8_000
const E18 = 10n ** 18n

it('stopped while its start-up reconciliation waits on a hanging operator, the worker exits 0 before its shutdown timeout, and the next worker reconciles every wallet', async () => {
  const db = rows(h.db)
  const direct = await directSender(h)
  const orphans = new Map<string, Hex>()
  for (let i = 0; i < 6; i++) {
    const { wallet } = await h.wallet()
    const clientOrderId = `0x${randomBytes(16).toString('hex')}` as Hex
    expect((await sendWithSessionKey(direct, wallet.id, 'Order', { market: 'ETH-USD', side: 0, price: 1900n * E18, size: E18 / 10n, timeInForce: 0, clientOrderId })).status).toBe(200)
    orphans.set(wallet.id, clientOrderId)
  }

  const env: Record<string, string | undefined> = {
    ...process.env, DATABASE_URL: h.databaseUrl, REDIS_URL, QUEUE_PREFIX: h.queuePrefix, OPERATOR_URL: proxyUrl, DEPUTY_MASTER_KEY: h.masterKey,
    LOG_LEVEL: 'info', OPERATOR_TIMEOUT_MS: '3000', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
  }
  const { child, messages, exited, stop } = spawnLoggingWorker(env, 60_000)
  try {
    // The pass is under way: its first wallet's read has timed out, the next one's is on the wire.
    await eventually(async () => messages.includes('reconcile failed for wallet; retrying next run'), 30_000)
    const stoppedAt = Date.now()
    child.kill('SIGTERM')
    const [code, signal] = await exited
    const stoppedInMs = Date.now() - stoppedAt
    expect({ code, signal }, messages.join('\n')).toEqual({ code: 0, signal: null })
    expect(messages).toContain('shutting down')
    expect(messages).not.toContain('worker started')
    expect(messages).not.toContain('start-up reconciliation done')
    expect(stoppedInMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS)
  } finally {
    stop()
  }

  await h.startWorker()
  for (const [walletId, clientOrderId] of orphans) {
    const adopted = await eventually(async () => (await db.ordersOf(walletId)).find((o) => o.clientOrderId.toLowerCase() === clientOrderId), 30_000)
    expect(adopted.state).toBe('open')
    expect((await db.audit(walletId, 'orphan.adopt')).map((a) => a.actor)).toEqual(['reconciler'])
  }
}, 120_000)
