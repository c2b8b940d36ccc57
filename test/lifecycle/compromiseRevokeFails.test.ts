/**
 * A compromise whose revocation the operator does not take (unreachable): the compromised session
 * never signs again, resuming waits for a new grant, and session maintenance retries the revocation.
 */
/**
 * A compromise whose revocation the operator does not take (unreachable for a moment): the wallet is
 * halted and the API answers 502 SESSION.REVOKE_FAILED. The compromised key must still never sign
 * again: resuming takes a new grant (README), and nothing is signed with it meanwhile.
 */
import { describe, expect, it } from 'vitest'
import { resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { CompromiseIncompleteError, compromiseWallet } from '../../src/runtime/sessions/compromiseWallet.js'
import { activeWallet, eventually, operatorDelegation, place, rows } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const t = workerForFile({ maintenanceIntervalMs: 3_600_000 })

describe('a compromise whose revocation fails at the operator', () => {
  it('leaves the compromised session unable to sign, and resuming waits for a new grant', async () => {
    const r = rows(t.h.db)
    const w = await activeWallet(t.h)
    const deps = { ...t.worker.deps, venue: { ...t.worker.deps.venue, revoke: async () => { throw new Error('operator unreachable') } } }
    const failure = await compromiseWallet(deps, t.h.keyring, { walletId: w.wallet.id, reason: 'session key found in a log' }).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(CompromiseIncompleteError)
    expect((await r.wallet(w.wallet.id)).status).toBe('halted')
    // Still valid at the operator (its revocation failed): the worker must not sign with it any more.
    expect(operatorDelegation(t.h.sandbox, w.session.delegationHash)?.revoked).toBeFalsy()
    const stillSigns = (await t.worker.deps.sessions.active(w.wallet.id))?.id === w.session.id
    const resumed = await resumeWallet(t.h.db, { walletId: w.wallet.id })
    const order = await place(t.h, t.worker, w.wallet.id)
    const signedWithCompromised = await eventually(async () => (await r.requestsOf(order.id)).some((q) => q.sessionId === w.session.id), 3_000).catch(() => false)
    expect({ stillSigns, resumed: resumed.status, signedWithCompromised, status: (await r.session(w.session.id)).status })
      .toEqual({ stillSigns: false, resumed: 'awaiting_delegation', signedWithCompromised: false, status: 'revoked' })
    // The revocation the operator did not take is retried by session maintenance.
    expect(await t.worker.maintainSessions(w.wallet.id)).toMatchObject({ revoked: 1, failures: 0 })
    expect(operatorDelegation(t.h.sandbox, w.session.delegationHash)?.revoked).toBe(true)
  })
})
