/**
 * The worker's clock steps after start-up (an NTP correction, a VM resumed) while no request is
 * being sent: a rotated-out session's revocation signs its deadline on the stale offset, which the
 * operator refuses (DeadlineExpired when the clock stepped back, InvalidRequest when it stepped
 * forward past maxDeadlineMs). The revocation measures the operator's clock again and goes through,
 * as a submission does, instead of failing at every maintenance run while the old key stays valid
 * at the operator until it expires.
 */
import { randomUUID } from 'node:crypto'
import { eq, sql } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { SessionKey } from '../../src/keys/SessionKey.js'
import { sessions } from '../../src/store/schema/index.js'
import { activeWallet, grant, operatorDelegation, rows } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

let stepMs = 0

// Nothing else measures the clock again here: no stream reconnects, no submission.
const t = workerForFile({ now: () => Date.now() + stepMs, streams: false, rotationGraceMs: 1_000, maintenanceIntervalMs: 3_600_000 })

it.each([
  ['back', -90_000],
  ['forward', 90_000],
])('a rotated-out session is revoked at the operator after the clock stepped %s', async (_direction, step) => {
  const r = rows(t.h.db)
  const w = await activeWallet(t.h, { lifetimeSeconds: 24 * 3600 })
  const { session: next } = await grant(t.h, w, { lifetimeSeconds: 24 * 3600 })
  expect((await r.session(w.session.id)).status).toBe('rotating')
  // Rotated out well before the grace period ended, whichever way the clock went.
  await t.h.db.update(sessions).set({ updatedAt: sql`now() - interval '1 hour'` }).where(eq(sessions.id, w.session.id))

  stepMs += step
  try {
    expect(await t.worker.maintainSessions(w.wallet.id)).toMatchObject({ revoked: 1, failures: 0 })
  } finally {
    stepMs -= step
    await t.worker.deps.resyncOperatorClock?.()
  }
  expect((await r.session(w.session.id)).status).toBe('revoked')
  expect(operatorDelegation(t.h.sandbox, w.session.delegationHash)?.revoked).toBe(true)
  expect((await r.session(next.id)).status).toBe('active')
}, 30_000)

it('a grant in progress (the wallet signing) is not cleared as abandoned by a worker whose clock runs past the 10 minutes ahead', async () => {
  const r = rows(t.h.db)
  const w = await activeWallet(t.h, { lifetimeSeconds: 24 * 3600 })
  // A grant started just now by another process (Postgres dates it), its wallet still signing.
  const pendingId = randomUUID()
  await t.h.db.insert(sessions).values({ ...w.session, id: pendingId, status: 'pending', publicKey: SessionKey.generate().publicKey, activatedAt: null, delegatedAt: null, delegationHash: null, delegatedPayload: null, createdAt: undefined, updatedAt: undefined })
  stepMs += 11 * 60_000
  try {
    await t.worker.maintainSessions(w.wallet.id)
  } finally {
    stepMs -= 11 * 60_000
    await t.worker.deps.resyncOperatorClock?.()
  }
  expect(await r.session(pendingId)).toMatchObject({ status: 'pending' })
  // Untouched for 11 minutes on Postgres's clock, it is.
  await t.h.db.update(sessions).set({ createdAt: sql`now() - interval '11 minutes'` }).where(eq(sessions.id, pendingId))
  await t.worker.maintainSessions(w.wallet.id)
  expect(await r.session(pendingId)).toMatchObject({ status: 'revoked', statusReason: 'grant abandoned' })
  // In the wallet's trail, as no failure of the wallet or its signer (the process that asked died).
  expect((await r.audit(w.wallet.id, 'session.grantFailed')).map((a) => a.details)).toEqual([{ sessionId: pendingId, reason: 'grant abandoned', failure: false }])
})

it('a session another process rotated out a moment ago is not revoked before its grace by a worker whose clock runs ahead', async () => {
  const r = rows(t.h.db)
  const w = await activeWallet(t.h, { lifetimeSeconds: 24 * 3600 })
  // Rotated just now by another process (the API's rotate route): requests signed with the old key may still be on the wire.
  await grant(t.h, w, { lifetimeSeconds: 24 * 3600 })
  expect((await r.session(w.session.id)).status).toBe('rotating')
  stepMs += 90_000
  try {
    expect(await t.worker.maintainSessions(w.wallet.id)).toMatchObject({ revoked: 0, failures: 0 })
  } finally {
    stepMs -= 90_000
    await t.worker.deps.resyncOperatorClock?.()
  }
  expect((await r.session(w.session.id)).status).toBe('rotating')
  expect(operatorDelegation(t.h.sandbox, w.session.delegationHash)?.revoked ?? false).toBe(false)
  // Rotated out longer than the grace ago on Postgres's clock, it is revoked.
  await t.h.db.update(sessions).set({ updatedAt: sql`now() - interval '1 minute'` }).where(eq(sessions.id, w.session.id))
  expect(await t.worker.maintainSessions(w.wallet.id)).toMatchObject({ revoked: 1, failures: 0 })
  expect(operatorDelegation(t.h.sandbox, w.session.delegationHash)?.revoked).toBe(true)
})
