/**
 * Recording a revocation takes the wallet's lock before the session's row, as a grant's activation
 * does (it locks the wallet, then moves the active session to `rotating`): the other way round, a
 * revocation of the active session recorded while a grant activated deadlocked with it, and one of
 * the two was aborted (a grant counted as failed, or a session revoked at the operator left active
 * here). And a revocation is audited once, however many callers revoke the same session.
 */
import { eq } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { revokeAtOperator } from '../../src/runtime/sessions/revokeAtOperator.js'
import { lockWallet } from '../../src/store/repositories/lockWallet.js'
import { sessions } from '../../src/store/schema/index.js'
import { activeWallet, operatorDelegation } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const t = workerForFile({ streams: false, maintenanceIntervalMs: 3_600_000 })

it('a revocation recorded while a grant activates (wallet, then the active session) waits for it instead of deadlocking', async () => {
  const w = await activeWallet(t.h)
  const row = await t.r.session(w.session.id)
  let locked!: () => void
  const walletLocked = new Promise<void>((resolve) => { locked = resolve })
  // What an activation does, the revocation's record starting between its two steps.
  const activation = t.h.db.transaction(async (tx) => {
    await lockWallet(tx, w.wallet.id)
    locked()
    await new Promise((resolve) => setTimeout(resolve, 300))
    await tx.update(sessions).set({ status: 'rotating', statusReason: 'replaced (test)' }).where(eq(sessions.id, w.session.id))
  })
  await walletLocked
  const revoking = revokeAtOperator(t.worker.deps, t.h.keyring, row, 'revoked through the API').then(() => 'revoked', (error: unknown) => String(error))
  await expect(activation).resolves.toBeUndefined()
  expect(await revoking).toBe('revoked')
  expect(await t.r.session(w.session.id)).toMatchObject({ status: 'revoked', revokedAt: expect.any(Date) })
  expect(operatorDelegation(t.h.sandbox, w.session.delegationHash)?.revoked).toBe(true)

  // Revoked again by another caller that read the session before (maintenance beside a compromise): one audit entry.
  await revokeAtOperator(t.worker.deps, t.h.keyring, row, 'revoked again')
  expect((await t.r.audit(w.wallet.id, 'session.revoked')).map((a) => a.details)).toEqual([{ sessionId: w.session.id, reason: 'revoked through the API' }])
})
