/**
 * A worker stopped (SIGTERM) while its start-up waits for Redis (restarted during a Redis outage;
 * its cancel lane and event streams already run, as they need no Redis) stops as one stopped while
 * it waits for the operator does: exit 0, without starting, its event streams' leases released so
 * another process takes the wallets at once. The last start-up steps' wait for Redis went on under
 * the signal, and the process exited 1 at its deadline, leaving its leases to lapse.
 */
import { isNotNull } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { streamCursors } from '../../src/store/schema/index.js'
import { lateRelay } from '../support/lateRelay.js'
import { REDIS_URL, createHarness, eventually, type Harness } from './support/harness.js'
import { stopWhen } from './support/stopWhen.js'

let h: Harness
let redis: Awaited<ReturnType<typeof lateRelay>>
beforeAll(async () => {
  h = await createHarness()
  // Refuses every connection: never opened.
  redis = await lateRelay(REDIS_URL)
})
afterAll(async () => {
  await redis?.close()
  await h?.close()
})

it('the worker stopped while it waits for Redis after its start-up reconciliation exits 0, its event streams\' leases released', async () => {
  await h.wallet()
  // Its event stream runs meanwhile (it needs no Redis), holding the wallet's lease.
  const leased = () => eventually(async () => (await h.db.select().from(streamCursors).where(isNotNull(streamCursors.leaseOwner))).length > 0, 20_000)
  const { code, signal, messages } = await stopWhen(h, ['--import', 'tsx', 'src/main/worker.ts'], 'start-up reconciliation done', { REDIS_URL: redis.url }, leased)
  expect({ code, signal, messages }).toMatchObject({ code: 0, signal: null })
  expect(messages).not.toContain('worker started')
  // Another process takes the wallet at once, not after the lease lapses.
  expect(await h.db.select().from(streamCursors).where(isNotNull(streamCursors.leaseOwner))).toEqual([])
}, 60_000)
