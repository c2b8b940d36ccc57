/**
 * An event the operator always sends as a frame that is not JSON (a bare `NaN`, as Python's
 * json.dumps writes it): like a gap the operator never fills, every later event of the wallet
 * waits behind it on every reconnect. Once that has lasted `gapAlertAfterMs`, a person is told
 * (EVENT_GAP_STALLED, naming the seq), once; when the operator sends it readable, the stream goes on.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { streamCursors } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { startEventProxy, type EventProxy } from './support/eventProxy.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorEvents } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let proxy: EventProxy
let worker: RunningWorker
let db: ReturnType<typeof rows>
const alerts: { walletId: string; code: string; message: string; details?: Record<string, unknown> }[] = []

beforeAll(async () => {
  h = await createHarness()
  db = rows(h.db)
  proxy = await startEventProxy(h.sandbox.url)
  worker = await h.startWorker({ operatorUrl: proxy.url, streamGapAlertAfterMs: 1_500, alert: (event) => { alerts.push(event) } })
})
afterAll(async () => {
  await h?.close()
  await proxy?.close()
})

describe('an event the operator always sends unreadable', () => {
  it('raises EVENT_GAP_STALLED once, naming its seq; the stream resumes once it is sent readable', async () => {
    const w = await h.wallet()
    await eventually(async () => worker.streams?.wallets().includes(w.wallet.id))
    const place = async (price: string) => {
      const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())
      await worker.relay()
      return order
    }
    const first = await place('1990')
    await eventually(async () => (await db.order(first.id)).state === 'open')
    const unreadable = operatorEvents(h.sandbox, w.signer.address).length + 1
    proxy.corrupt(w.signer.address, unreadable)
    try {
      await place('1980')
      await place('1970')
      const stalled = () => alerts.filter((a) => a.walletId === w.wallet.id && a.code === 'EVENT_GAP_STALLED')
      await eventually(async () => stalled().length > 0, 20_000)
      expect(stalled()[0]!.message).toContain(`the operator has not sent event ${unreadable}`)
      expect(stalled()[0]!.message).toContain('a frame it cannot read')
      expect(stalled()[0]!.details).toEqual({ seq: String(unreadable) })
      // Every later event waits behind it.
      expect((await h.db.select().from(streamCursors).where(eq(streamCursors.walletId, w.wallet.id)))[0]?.lastSeq).toBe(unreadable - 1)
      // The stream keeps reconnecting into the same unreadable frame: no second alert.
      await new Promise((resolve) => setTimeout(resolve, 4_000))
      expect(stalled()).toHaveLength(1)
    } finally {
      proxy.uncorrupt()
    }
    const head = operatorEvents(h.sandbox, w.signer.address).length
    await eventually(async () => (await h.db.select().from(streamCursors).where(eq(streamCursors.walletId, w.wallet.id)))[0]?.lastSeq === head, 20_000)
  })
})
