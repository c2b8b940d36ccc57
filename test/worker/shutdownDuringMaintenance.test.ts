/**
 * A worker stopped (SIGTERM) while its session maintenance revokes sessions at a hanging operator
 * (takes connections, never answers) one after another stops within its shutdown budget, not at its
 * end: the revocation on the wire may run to the operator timeout, but no further session is started
 * once it is told to stop. Each revocation waited out the operator timeout, and the worker's close
 * waited for the whole run: it ran into SHUTDOWN_TIMEOUT_MS ('shutdown timed out'). The sessions it
 * left are revoked by the next run, here the next worker's.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { grantSession } from '../../src/runtime/sessions/grantSession.js'
import { sessions } from '../../src/store/schema/index.js'
import { lateRelay } from '../support/lateRelay.js'
import { createHarness, eventually, type Harness } from './support/harness.js'
import { rows } from './support/rows.js'
import { spawnWorkerProcess } from './support/workerProcess.js'

let h: Harness
let operator: Awaited<ReturnType<typeof lateRelay>>
beforeAll(async () => {
  h = await createHarness()
  operator = await lateRelay(h.sandbox.url)
  await operator.open()
})
afterAll(async () => {
  await h?.close()
  await operator?.close()
})

const SHUTDOWN_TIMEOUT_MS = 8_000

it('stopped while its session maintenance waits on a hanging operator, the worker stops before its shutdown timeout, and the next worker revokes the sessions it left', async () => {
  const db = rows(h.db)
  // Each revocation sent to the hanging operator waits this long for an answer.
  const child = await spawnWorkerProcess(h, { OPERATOR_URL: operator.url, SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), OPERATOR_TIMEOUT_MS: '3000' })
  await operator.hang()
  // Five wallets each rotated to a new session, the old one rotating out past its grace: the
  // maintenance revokes each at the operator, one after another.
  const rotatedOut: string[] = []
  for (let i = 0; i < 5; i++) {
    const { wallet, signer, session } = await h.wallet()
    await grantSession({ db: h.db, keyring: h.keyring, domain: h.sandbox.domain, walletSigner: signer, walletId: wallet.id, families: ['Order', 'CancelOrder', 'CancelAll'], lifetimeSeconds: 3600 * 24, nowMs: h.sandbox.now() })
    expect((await db.session(session.id)).status).toBe('rotating')
    await h.db.update(sessions).set({ updatedAt: new Date(Date.now() - 3_600_000) }).where(eq(sessions.id, session.id))
    rotatedOut.push(session.id)
  }
  // A run is under way: its first revocation has timed out, the next one is on the wire.
  await eventually(async () => child.errors.some((line) => line.includes('revoking a session at the operator failed')), 30_000)
  const stoppedAt = Date.now()
  expect(await child.stop(), child.errors.join('\n')).toBe(0)
  const stoppedInMs = Date.now() - stoppedAt
  expect(child.errors.filter((line) => line.includes('shutdown timed out'))).toEqual([])
  expect(stoppedInMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS)

  await operator.open()
  await h.startWorker({ operatorUrl: operator.url })
  for (const id of rotatedOut) {
    const revoked = await eventually(async () => { const s = await db.session(id); return s.revokedAt && s }, 30_000)
    expect(revoked.status).toBe('revoked')
    expect(h.sandbox.state.revocations.get(revoked.delegationHash!)?.status).toBe('revoked')
  }
}, 120_000)
