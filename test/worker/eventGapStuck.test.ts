/**
 * A seq the operator never sends (`skipEventSeq`): the wallet's later events, a session's end among
 * them, wait behind it on every reconnect. Once that has lasted `gapAlertAfterMs`, an
 * EVENT_GAP_STALLED alert names the seq, once however often the stream reconnects; when the
 * operator sends it at last, the stream goes on and the cursor reaches the operator's head.
 * A seq the operator always sends as a frame that is not JSON (a bare `NaN`, as Python's json.dumps
 * writes it), with its SSE id, is passed over after five meetings in a row instead: stored as an
 * UnreadableFrame stand-in, alerted EVENT_UNAPPLIABLE, and the wallet's later events apply.
 * A frame that cannot be read and carries no SSE id (an operator's greeting on every connection)
 * holds no seq's place: it is passed over, logged, and the wallet's events apply.
 */
import { and, eq } from 'drizzle-orm'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { events, streamCursors } from '../../src/store/schema/index.js'
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
/** The worker's log lines at warn and above. */
const logged: Record<string, unknown>[] = []

beforeAll(async () => {
  h = await createHarness()
  db = rows(h.db)
  // Events pass through the proxy untouched unless told to corrupt one.
  proxy = await startEventProxy(h.sandbox.url)
  const log = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) })
  worker = await h.startWorker({ operatorUrl: proxy.url, streamGapAlertAfterMs: 1_500, alert: (event) => { alerts.push(event) }, log })
})
afterAll(async () => {
  await h?.close()
  await proxy?.close()
})

type Fault = { inject(address: string, seq: number): void; mend(): void; says(seq: number): string }

/** A wallet whose stream is open with one order open through it; `place` places more; `broken` is the seq of its next event. */
async function streamingWalletWithOrder() {
  const w = await h.wallet()
  await eventually(async () => worker.streams?.wallets().includes(w.wallet.id))
  const place = async (price: string) => {
    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: w.wallet.id, market: 'ETH-USD', side: 'buy', price, size: '0.1' }, new Date())
    await worker.relay()
    return order
  }
  const first = await place('1990')
  await eventually(async () => (await db.order(first.id)).state === 'open')
  return { w, place, broken: operatorEvents(h.sandbox, w.signer.address).length + 1 }
}

/** Breaks the wallet's next event with `fault`, places behind it, and checks the one alert and the resumption. */
async function stallsOnce(fault: Fault): Promise<void> {
  const { w, place, broken } = await streamingWalletWithOrder()
  const cursor = async () => (await h.db.select().from(streamCursors).where(eq(streamCursors.walletId, w.wallet.id)))[0]?.lastSeq
  fault.inject(w.signer.address, broken)
  try {
    await place('1980')
    await place('1970')
    const stalled = () => alerts.filter((a) => a.walletId === w.wallet.id && a.code === 'EVENT_GAP_STALLED')
    await eventually(async () => stalled().length > 0, 20_000)
    expect(stalled()[0]!.message).toContain(`the operator has not sent event ${broken}`)
    expect(stalled()[0]!.message).toContain(fault.says(broken))
    expect(stalled()[0]!.details).toEqual({ seq: String(broken) })
    // Every later event waits behind it.
    expect(await cursor()).toBe(broken - 1)
    // The stream keeps reconnecting into the same seq: no second alert.
    await new Promise((resolve) => setTimeout(resolve, 4_000))
    expect(stalled()).toHaveLength(1)
  } finally {
    fault.mend()
  }
  const head = operatorEvents(h.sandbox, w.signer.address).length
  await eventually(async () => (await cursor()) === head, 20_000)
}

describe("a wallet's event that the operator never sends readable", () => {
  it('a seq never sent: raises EVENT_GAP_STALLED once, naming it; the stream resumes once it is sent', async () => {
    await stallsOnce({ inject: (_, seq) => h.sandbox.setFaults({ skipEventSeq: seq }), mend: () => h.sandbox.setFaults({ skipEventSeq: 0 }), says: (seq) => `gets ${seq + 1})` })
  })

  it('a frame that cannot be read, sent so on every replay: passed over in its place with EVENT_UNAPPLIABLE, and the later events apply without it being mended', async () => {
    const { w, place, broken } = await streamingWalletWithOrder()
    proxy.corrupt(w.signer.address, broken)
    try {
      const behind = [await place('1980'), await place('1970')]
      // Both accepted by the operator: the corrupted frame and the one after it sent.
      await eventually(async () => operatorEvents(h.sandbox, w.signer.address).length > broken)
      const head = operatorEvents(h.sandbox, w.signer.address).length
      // Before, the stream waited at the frame for good (EVENT_GAP_STALLED) until the operator sent it readable.
      await eventually(async () => (await h.db.select().from(streamCursors).where(eq(streamCursors.walletId, w.wallet.id)))[0]?.lastSeq === head, 20_000)
      const [stored] = await h.db.select().from(events).where(and(eq(events.walletId, w.wallet.id), eq(events.seq, broken)))
      expect(stored).toMatchObject({ type: 'UnreadableFrame', payload: { data: { typeNamed: 'OrderAccepted', problem: expect.stringMatching(/^not JSON: /) } } })
      expect(alerts.filter((a) => a.walletId === w.wallet.id && a.code === 'EVENT_UNAPPLIABLE').map((a) => a.message)).toEqual([
        expect.stringContaining(`operator event ${broken} (UnreadableFrame) cannot be applied and was passed over: frame: cannot be read, on every replay (not JSON: `),
      ])
      for (const order of behind) await eventually(async () => (await db.order(order.id)).state === 'open')
    } finally {
      proxy.uncorrupt()
    }
  })

  it('a frame that cannot be read and carries no SSE id, opening every connection: passed over and logged, and the events apply', async () => {
    // Each stream opened from now on starts so (the wallet's own among them).
    proxy.greetStreams('tok=s3cr3t connected')
    try {
      const { w, place } = await streamingWalletWithOrder()
      const behind = await place('1980')
      const head = operatorEvents(h.sandbox, w.signer.address).length
      // Before, the frame was met as a gap at every connection's start: the cursor never moved.
      await eventually(async () => (await h.db.select().from(streamCursors).where(eq(streamCursors.walletId, w.wallet.id)))[0]?.lastSeq === head, 20_000)
      await eventually(async () => (await db.order(behind.id)).state === 'open')
      expect(alerts.filter((a) => a.walletId === w.wallet.id)).toEqual([])
      // Logged with why it cannot be read, none of its text (JSON.parse's message quotes the first ten characters).
      // (Throttled across wallets: one line for the same problem in 30 s, whichever wallet's.)
      const lines = logged.filter((line) => line.msg === 'event stream frame without an id cannot be read; passed over')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({ level: 40, err: 'not JSON', walletId: expect.any(String) })
      expect(JSON.stringify(logged)).not.toContain('s3cr3t')
    } finally {
      proxy.greetStreams(undefined)
    }
  })
})
