/**
 * A worker keeps each session's unsealed key in memory while the session signs. When another
 * process ends a session (the API rotates or revokes it, a second worker marks it refused), this
 * process is not told: its repair sweep asks Postgres which of the sessions it holds are still
 * active and unexpired, and drops the rest, so no ended session's key stays in memory for the
 * life of the process.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { sessions } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { capturedLog } from '../support/capturedLog.js'
import { createHarness, eventually, type Harness } from './support/harness.js'

let h: Harness
let worker: RunningWorker
const { log, entries } = capturedLog('info')

beforeAll(async () => {
  h = await createHarness()
  // Session maintenance (which forgets the sessions it expires itself) runs at start only here.
  worker = await h.startWorker({ sweepIntervalMs: 200, maintenanceIntervalMs: 3_600_000, log })
})
afterAll(async () => { await h?.close() })

it("drops the keys of sessions another process revoked or that expired, and keeps the active ones'", async () => {
  const [revoked, expired, active] = await Promise.all([h.wallet(), h.wallet(), h.wallet()])
  const ids = [revoked, expired, active].map(({ session }) => session.id)
  // Each wallet's event stream unseals its session.
  await eventually(async () => ids.every((id) => worker.deps.sessions.unsealed(id) !== undefined), 10_000)

  // Ended behind this process's back: no `forget` here, as in another process.
  await h.db.update(sessions).set({ status: 'revoked' }).where(eq(sessions.id, revoked.session.id))
  const past = Math.floor(Date.now() / 1000) - 1
  await h.db.update(sessions).set({ expiryUnix: past, expiry: new Date(past * 1000) }).where(eq(sessions.id, expired.session.id))

  await eventually(async () => worker.deps.sessions.unsealed(revoked.session.id) === undefined && worker.deps.sessions.unsealed(expired.session.id) === undefined, 10_000)
  expect(worker.deps.sessions.unsealed(active.session.id)?.id).toBe(active.session.id)
  await eventually(async () => entries().some((entry) => entry.msg === 'dropped the unsealed keys of sessions no longer active'), 5_000)
  const dropped = entries().filter((entry) => entry.msg === 'dropped the unsealed keys of sessions no longer active')
  expect(dropped.reduce((sum, entry) => sum + Number(entry.forgotten), 0)).toBe(2)
})
