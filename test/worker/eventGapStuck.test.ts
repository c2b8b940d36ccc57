/**
 * A seq the operator never sends (`skipEventSeq`): the wallet's later events, a session's end among
 * them, wait behind the gap on every reconnect. Once the same gap has lasted `gapAlertAfterMs`, an
 * EVENT_GAP_STALLED alert names it, once however often the stream reconnects; when the operator
 * sends it at last, the stream goes on and the cursor reaches the operator's head.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { streamCursors } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { operatorEvents } from './support/operator.js'
import { rows } from './support/rows.js'

let h: Harness
let worker: RunningWorker
let db: ReturnType<typeof rows>
const alerts: { walletId: string; code: string; message: string; details?: Record<string, unknown> }[] = []

beforeAll(async () => {
  h = await createHarness()
  db = rows(h.db)
  worker = await h.startWorker({ streamGapAlertAfterMs: 1_500, alert: (event) => { alerts.push(event) } })
})
afterAll(async () => { await h?.close() })

describe('a gap in a wallet\'s events that the operator never fills', () => {
  it('raises EVENT_GAP_STALLED once, naming the missing seq; the stream resumes once it is sent', async () => {
    const w = await h.wallet()
    await eventually(async () => worker.streams?.wallets().includes(w.wallet.id))
    const place = async (price: string) => {
      const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())
      await worker.relay()
      return order
    }
    const first = await place('1990')
    await eventually(async () => (await db.order(first.id)).state === 'open')
    const missing = operatorEvents(h.sandbox, w.signer.address).length + 1
    h.sandbox.setFaults({ skipEventSeq: missing })
    try {
      await place('1980')
      await place('1970')
      const stalled = () => alerts.filter((a) => a.walletId === w.wallet.id && a.code === 'EVENT_GAP_STALLED')
      await eventually(async () => stalled().length > 0, 20_000)
      expect(stalled()[0]!.message).toContain(`the operator has not sent event ${missing}`)
      expect(stalled()[0]!.details).toEqual({ seq: String(missing) })
      // The stream keeps reconnecting into the same gap: no second alert.
      await new Promise((resolve) => setTimeout(resolve, 4_000))
      expect(stalled()).toHaveLength(1)
    } finally {
      h.sandbox.setFaults({ skipEventSeq: 0 })
    }
    const head = operatorEvents(h.sandbox, w.signer.address).length
    await eventually(async () => (await h.db.select().from(streamCursors).where(eq(streamCursors.walletId, w.wallet.id)))[0]?.lastSeq === head, 20_000)
  })
})
