/**
 * The event streams' supervisor ticks every `tickMs`. A tick slower than that (Postgres hung, the
 * pool busy, a lease row locked by another transaction) must not leave the ticks the timer fired
 * meanwhile queued behind it: they would run back to back once Postgres answers again, and a
 * stopping worker's close() would wait for every one of them.
 */
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startEventStreams } from '../../src/runtime/eventStreams.js'
import type { Database } from '../../src/store/Database.js'
import { openDatabase } from '../../src/store/openDatabase.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'

let h: Harness
let worker: RunningWorker
let locker: Database

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ streams: false })
  locker = await openDatabase({ url: h.databaseUrl, max: 1 })
})
afterAll(async () => {
  await locker?.close()
  await h?.close()
})

it('a tick held up by a locked lease row is followed by one tick, not by every one the timer fired meanwhile', async () => {
  const { wallet } = await h.wallet()
  await h.db.execute(sql`insert into stream_cursors (wallet_id) values (${wallet.id}) on conflict do nothing`)
  let ticks = 0
  // Each tick starts by listing the wallets with an active session: counted here.
  const db = new Proxy(h.db, {
    get: (target, key, receiver) => key === 'selectDistinct'
      ? (...args: Parameters<typeof target.selectDistinct>) => { ticks++; return target.selectDistinct(...args) }
      : Reflect.get(target, key, receiver) as unknown,
  })
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let locked!: () => void
  const isLocked = new Promise<void>((resolve) => { locked = resolve })
  // Another transaction holds the wallet's lease row: the tick's lease update waits for it.
  const holding = locker.db.transaction(async (tx) => {
    await tx.execute(sql`select 1 from stream_cursors where wallet_id = ${wallet.id} for update`)
    locked()
    await released
  })
  await isLocked
  const streams = startEventStreams({ ...worker.deps, db }, { owner: 'tick-overlap-test', tickMs: 10 })
  // About 40 intervals pass while the first tick waits for the lock.
  await new Promise((resolve) => setTimeout(resolve, 400))
  expect(ticks).toBe(1)
  release()
  await holding
  // The tick under way ends with the lease taken; the timer goes on one tick at a time.
  await eventually(async () => streams.wallets().includes(wallet.id))
  const afterRelease = ticks
  await streams.close()
  // close() waited for the tick under way at most, not for a backlog of ~40.
  expect(ticks - afterRelease).toBeLessThanOrEqual(1)
}, 30_000)
