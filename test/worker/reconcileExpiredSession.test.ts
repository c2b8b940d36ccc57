/**
 * A wallet whose session expired by the clock but is still `active` in Postgres (session
 * maintenance has not marked it yet: not running, or failing) cannot be read by the sweep: no valid
 * read can be signed. It is no longer passed over silently: the sweep counts it `skipped`, logs a
 * warning naming the wallet, the session and why (once per window per session, not every sweep),
 * raises RECONCILE_SKIPPED once the session has been so for a sweep interval (maintenance, which
 * runs every few seconds, had its chance), and asks session maintenance for the wallet now, which
 * marks the session expired (and rotates it where a wallet signer is configured), as it would at
 * its next periodic run. Periodic reconciliation and maintenance are stopped: only the runs the
 * tests ask for happen.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import { controlJobs } from '../../src/queue/names.js'
import { walletSkippedLog } from '../../src/runtime/walletSkipped.js'
import { sessions } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { capturedLog } from '../support/capturedLog.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'
import { stopPeriodicReconcile } from './support/stopPeriodicReconcile.js'

let h: Harness
let worker: RunningWorker
let db: ReturnType<typeof rows>
const alerts: { walletId: string; code: string; message: string; details?: Record<string, unknown> }[] = []
const INTERVAL_MS = 30_000

beforeAll(async () => {
  h = await createHarness()
  db = rows(h.db)
  worker = await h.startWorker({ streams: false, sweepIntervalMs: 600_000, maintenanceIntervalMs: 3_600_000, alert: (event) => { alerts.push(event) } })
  await stopPeriodicReconcile(worker)
  await worker.controlQueue.removeJobScheduler(controlJobs.maintainSessions)
  await eventually(async () => !(await worker.controlQueue.getJobs(['waiting', 'active', 'delayed', 'prioritized'])).some((job) => job.name === controlJobs.maintainSessions))
})
afterAll(async () => { await h?.close() })

/** A wallet whose active session expired `agoSeconds` ago by the operator's clock, still `active` here. */
async function expiredWallet(agoSeconds: number) {
  const { wallet, session } = await h.wallet()
  const expiryUnix = Math.floor(worker.deps.operatorNow() / 1000) - agoSeconds
  await h.db.update(sessions).set({ expiryUnix, expiry: new Date(expiryUnix * 1000) }).where(eq(sessions.id, session.id))
  return { wallet, session, expiredAt: new Date(expiryUnix * 1000).toISOString() }
}

describe('a wallet whose session expired a while ago and is still active', () => {
  it('is counted skipped, warned of by id and reason, alerted RECONCILE_SKIPPED, and its session marked expired by the maintenance it asks', async () => {
    const { log, entries } = capturedLog('warn')
    const { wallet, session, expiredAt } = await expiredWallet(120)

    const report = await reconcile(worker.deps, { orphans: 'adopt', settleMs: 0, intervalMs: INTERVAL_MS, skippedLog: walletSkippedLog(log) })
    expect(report).toEqual({ wallets: 0, repairs: 0, failures: 0, skipped: 1 })
    const warned = entries().filter((entry) => entry.walletId === wallet.id)
    expect(warned.map((entry) => [entry.msg, entry.sessionId, entry.reason, entry.expiredAt])).toEqual([
      ['wallet not reconciled: no valid read can be signed for it', session.id, 'sessionExpired', expiredAt],
    ])
    expect(alerts.filter((a) => a.walletId === wallet.id).map((a) => [a.code, a.details])).toEqual([
      ['RECONCILE_SKIPPED', { sessionId: session.id, reason: 'sessionExpired', expiredAt }],
    ])

    // Maintenance, asked for the wallet now, marks the session expired: the sweep stops meeting it.
    await eventually(async () => (await db.session(session.id)).status === 'expired')
    expect((await db.audit(wallet.id, 'session.expired')).map((row) => row.details.sessionId)).toEqual([session.id])
    expect(await reconcile(worker.deps, { orphans: 'adopt', settleMs: 0, intervalMs: INTERVAL_MS })).toEqual({ wallets: 0, repairs: 0, failures: 0 })
  })
})

describe('a wallet whose session expired moments ago, with maintenance not running', () => {
  it('is warned of once over several sweeps (the warning is throttled), and not alerted before a sweep interval has passed', async () => {
    const { log, entries } = capturedLog('warn')
    const skippedLog = walletSkippedLog(log)
    const { wallet, session } = await expiredWallet(5)
    // Maintenance not running: nothing answers the ask, and the session stays active.
    const deps = { ...worker.deps, askSessionMaintenance: undefined }

    for (let run = 0; run < 3; run++) {
      expect(await reconcile(deps, { walletId: wallet.id, orphans: 'adopt', settleMs: 0, intervalMs: INTERVAL_MS, skippedLog })).toEqual({ wallets: 0, repairs: 0, failures: 0, skipped: 1 })
    }
    expect(entries().filter((entry) => entry.walletId === wallet.id).map((entry) => [entry.msg, entry.sessionId])).toEqual([
      ['wallet not reconciled: no valid read can be signed for it', session.id],
    ])
    expect(alerts.filter((a) => a.walletId === wallet.id)).toEqual([])
    expect((await db.session(session.id)).status).toBe('active')
  })
})
