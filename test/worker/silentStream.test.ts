/**
 * An event stream whose connection goes silent without closing (the operator's host vanished, a
 * NAT or load balancer dropped the connection) is opened again once nothing, not even a
 * keep-alive, has arrived for the idle timeout; a stream that carries only keep-alives is left
 * alone, and so is one whose consumer takes long to apply what arrived (that time is this side's).
 * The sandbox sends a keep-alive comment every 200 ms here, and the worker's events pass through a
 * proxy that can silence the streams open at a moment.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { streamEvents } from '../../src/venue/streamEvents.js'
import type { RunningWorker } from '../../src/worker.js'
import { capturedLog } from '../support/capturedLog.js'
import { startEventProxy, type EventProxy } from './support/eventProxy.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'

const IDLE_TIMEOUT_MS = 1_500
let h: Harness
let proxy: EventProxy
let worker: RunningWorker
const { log, entries } = capturedLog('info')

beforeAll(async () => {
  h = await createHarness({ sandbox: { keepAliveMs: 200 } })
  proxy = await startEventProxy(h.sandbox.url)
  // Reconciliation, which would repair the order from the operator anyway, runs once a minute.
  worker = await h.startWorker({ operatorUrl: proxy.url, streamIdleTimeoutMs: IDLE_TIMEOUT_MS, reconcileIntervalMs: 60_000, log })
})
afterAll(async () => {
  await h?.close()
  await proxy?.close()
})

it('leaves a stream that carries only keep-alives open, and opens a silent one again, whose events then arrive', async () => {
  const w = await h.wallet()
  await eventually(async () => worker.streams?.wallets().includes(w.wallet.id))
  await eventually(async () => proxy.streamsOpened.length > 0)
  const opened = proxy.streamsOpened.length
  // Three idle timeouts with no event: the keep-alives keep the stream.
  await new Promise((resolve) => setTimeout(resolve, 3 * IDLE_TIMEOUT_MS))
  expect(proxy.streamsOpened.length).toBe(opened)

  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
  await worker.relay()
  await eventually(async () => (await rows(h.db).order(order.id)).state === 'open')

  proxy.silenceOpenStreams()
  const silencedAt = Date.now()
  h.sandbox.setMark('ETH-USD', '1990')
  try {
    // The fill's event is held by the silent connection until the stream is opened again.
    await eventually(async () => (await rows(h.db).order(order.id)).state === 'filled', 10_000)
  } finally {
    h.sandbox.setMark('ETH-USD', '2000')
  }
  // Not before the idle timeout, which runs from the last keep-alive (at most 200 ms before the silence).
  expect(Date.now() - silencedAt).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 250)
  expect(proxy.streamsOpened.length).toBe(opened + 1)
  expect(entries()).toContainEqual(expect.objectContaining({ msg: 'event stream silent; reconnecting', walletId: w.wallet.id }))
}, 30_000)

it('does not count the time its consumer spends applying events as silence', async () => {
  const w = await h.wallet()
  const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
  await worker.relay()
  await eventually(async () => (await rows(h.db).order(order.id)).state === 'open')
  const session = await worker.deps.sessions.active(w.wallet.id)
  const stop = new AbortController()
  let connections = 0
  let silences = 0
  let applied = 0
  // A consumer of its own, straight to the sandbox: its first batch takes three idle timeouts.
  const consuming = streamEvents({
    baseUrl: h.sandbox.url, auth: worker.deps.sessions.readAuth(session!), since: 0n, signal: stop.signal, idleTimeoutMs: 500,
    onConnect: () => { connections++ },
    onIdle: () => { silences++ },
    onEvents: async (batch) => {
      if (applied === 0) await new Promise((resolve) => setTimeout(resolve, 1_500))
      applied += batch.length
    },
  })
  await eventually(async () => applied > 0, 10_000)
  stop.abort()
  await consuming
  expect(silences).toBe(0)
  expect(connections).toBe(1)
}, 30_000)
