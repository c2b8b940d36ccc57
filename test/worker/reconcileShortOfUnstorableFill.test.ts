/**
 * An order the operator reads filled further than Postgres counts, whose missing fill is behind the
 * stream's cursor and cannot be stored (its read malformed: passed over with READ_UNAPPLIABLE), made
 * every sweep read the wallet's fills from the start, its whole history, for as long as the fill
 * stayed unstorable. Now a process remembers, per wallet, up to which seq a read from the start found
 * every fill stored (the seq before the lowest it passed over): the next sweeps read from there,
 * the unstorable fill and what followed it, not the history before it. The fill is still read
 * again on every sweep, so once it can be stored it is counted. Streams are off (the cursor is set
 * past the fills, as a stream that passed the fill's event over would leave it); the sandbox
 * answers the malformed read (`readOverrides`); the fill reads go to it over HTTP, their `since`
 * noted on the way.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import { streamCursors } from '../../src/store/schema/index.js'
import type { ReadAuth } from '../../src/venue/types.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from './support/harness.js'
import { operatorEvents } from './support/operator.js'
import { rows } from './support/rows.js'
import { stopPeriodicReconcile } from './support/stopPeriodicReconcile.js'
import { openBuyFilledTwice } from './support/twoFills.js'

let h: Harness
let worker: RunningWorker
let db: ReturnType<typeof rows>

beforeAll(async () => {
  // A resting order fills 0.3 at a time.
  h = await createHarness({ sandbox: { makerSize: '0.3' } })
  db = rows(h.db)
  worker = await h.startWorker({ streams: false, sweepIntervalMs: 600_000 })
  await stopPeriodicReconcile(worker)
})
afterAll(async () => { await h?.close() })

it('a sweep short of an unstorable fill reads from just before it, not the whole history; once storable it is counted', async () => {
  const { wallet } = await h.wallet()
  // Two fills of 0.3; the second's read is malformed.
  const { order, fills: [first, second] } = await openBuyFilledTwice(h, worker, wallet)
  expect(BigInt(first!.seq)).toBeLessThan(BigInt(second!.seq))
  h.sandbox.setFaults({ readOverrides: { [second!.fillId]: { fee: 'NaN' } } })
  // The stream applied every event (the second fill's passed over): its cursor is past both fills.
  const lastSeq = Math.max(...operatorEvents(h.sandbox, wallet.address).map((e) => Number(e.seq)))
  await h.db.insert(streamCursors).values({ walletId: wallet.id, lastSeq }).onConflictDoUpdate({ target: streamCursors.walletId, set: { lastSeq } })

  // Every fill read goes to the sandbox; its `since` is noted.
  const since: bigint[] = []
  const venue = { ...worker.deps.venue, fills: (auth: ReadAuth, from?: bigint) => { since.push(from ?? 0n); return worker.deps.venue.fills(auth, from) } }
  const deps = { ...worker.deps, venue }
  const storedThrough = new Map<string, bigint>()
  const sweep = async () => {
    since.length = 0
    expect(await reconcile(deps, { walletId: wallet.id, orphans: 'adopt', settleMs: 0, storedThrough })).toMatchObject({ wallets: 1, failures: 0 })
    return [...since]
  }
  const cursor = BigInt(lastSeq)
  const beforeSecond = BigInt(second!.seq) - 1n

  try {
    // Short after the fills since the cursor: read from the start once, the first fill counted.
    expect(await sweep()).toEqual([cursor, 0n])
    expect((await db.fillsOf(order.id)).map((f) => f.fillId)).toEqual([first!.fillId])
    // Still short: read from just before the fill passed over, not from the start again.
    expect(await sweep()).toEqual([cursor, beforeSecond])
    expect(await sweep()).toEqual([cursor, beforeSecond])
  } finally {
    h.sandbox.setFaults({ readOverrides: {} })
  }
  // Read right: the next sweep counts it, and the order is short no more.
  expect(await sweep()).toEqual([cursor, beforeSecond])
  expect((await db.fillsOf(order.id)).map((f) => f.fillId)).toEqual([first!.fillId, second!.fillId])
  expect(Number((await db.order(order.id)).filled)).toBe(0.6)
  expect(await sweep()).toEqual([cursor])
})
