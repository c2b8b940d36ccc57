import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { streamCursors } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, eventually, type Harness } from './support/harness.js'

let h: Harness
let worker: RunningWorker
beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker()
})
afterAll(async () => { await h?.close() })

const streaming = () => new Set(worker.streams?.wallets())
const lease = async (walletId: string) => (await h.db.select().from(streamCursors).where(eq(streamCursors.walletId, walletId)))[0]

it("streams every wallet with a session whose lease it can take, leaves one another process holds, and takes it once that lease lapses", async () => {
  const free = await h.wallet()
  const held = await h.wallet()
  // Another process holds `held`'s lease for an hour (written over the row this worker's tick may
  // have written already: the wallet has an active session from the line above).
  const heldLease = { leaseOwner: 'another-process', leaseUntil: new Date(Date.now() + 3_600_000) }
  await h.db.insert(streamCursors).values({ walletId: held.wallet.id, ...heldLease }).onConflictDoUpdate({ target: streamCursors.walletId, set: heldLease })

  await eventually(async () => streaming().has(free.wallet.id))
  expect(await lease(free.wallet.id)).toMatchObject({ leaseOwner: expect.not.stringMatching(/^another-process$/) })
  // Several ticks later the held wallet is still not streamed here, and its lease is untouched.
  await new Promise((resolve) => setTimeout(resolve, 2_500))
  expect(streaming().has(held.wallet.id)).toBe(false)
  expect(await lease(held.wallet.id)).toMatchObject({ leaseOwner: 'another-process' })

  // Its lease lapses: this process takes it and streams the wallet, and keeps renewing both.
  await h.db.update(streamCursors).set({ leaseUntil: sql`now() - interval '1 second'` }).where(eq(streamCursors.walletId, held.wallet.id))
  await eventually(async () => streaming().has(held.wallet.id))
  const [a, b] = [await lease(free.wallet.id), await lease(held.wallet.id)]
  expect(a!.leaseOwner).toBe(b!.leaseOwner)
  expect(b!.leaseUntil!.getTime()).toBeGreaterThan(Date.now())
  const renewedFrom = b!.leaseUntil!.getTime()
  await eventually(async () => (await lease(held.wallet.id))!.leaseUntil!.getTime() > renewedFrom)
  expect(streaming()).toEqual(new Set([free.wallet.id, held.wallet.id]))
})
