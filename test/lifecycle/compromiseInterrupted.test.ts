/**
 * A compromise halts the wallet and queues its CancelAll in one transaction, sends the CancelAll,
 * then ends the wallet's sessions in another. A process dying between the two left the keys in
 * doubt `active` here and live at the operator (nothing else ended them: session maintenance passes
 * halted wallets by), and a resume made the wallet tradable under them again. Session maintenance now
 * finishes such a compromise. The crash is a failure of the `session.ended` audit insert, once
 * (`withFirstWriteFailing`), which rolls back the transaction that ends the sessions.
 */
import { eq, sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { compromiseWallet } from '../../src/runtime/sessions/compromiseWallet.js'
import { outbox, sessions } from '../../src/store/schema/index.js'
import { withFirstWriteFailing } from '../support/firstWriteFailing.js'
import { activeWallet, grant, operatorDelegation, operatorOpenOrders, place, settled } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const alerts: { walletId: string; code: string; message: string }[] = []

const t = workerForFile({ maintenanceIntervalMs: 3_600_000, alert: (event) => { alerts.push(event) } })

describe('a compromise interrupted before it ended the wallet\'s sessions', () => {
  it('is finished by session maintenance: the sessions ended, revoked at the operator, alerted; a session granted after it is left alone', async () => {
    const w = await activeWallet(t.h)
    const resting = await place(t.h, t.worker, w.wallet.id)
    await settled(t.h.db, resting.id, 'open')

    await withFirstWriteFailing(t.h.db, { name: 'fail_ended', table: 'audit_log', when: "new.action = 'session.ended'", message: 'audit insert failed (test)' }, async () => {
      await expect(compromiseWallet(t.worker.deps, t.h.keyring, { walletId: w.wallet.id, reason: 'key leaked' })).rejects.toMatchObject({ cause: { message: 'audit insert failed (test)' } })
    })
    // Halted and its CancelAll sent, the key in doubt still active here and live at the operator.
    expect((await t.r.wallet(w.wallet.id)).status).toBe('halted')
    expect(operatorOpenOrders(t.h.sandbox, w.wallet.address)).toEqual([])
    expect((await t.r.session(w.session.id)).status).toBe('active')
    expect(operatorDelegation(t.h.sandbox, w.session.delegationHash)?.revoked).toBe(false)

    // A compromise may still be under way a moment after its halt: not finished over it.
    await t.worker.maintainSessions(w.wallet.id)
    expect((await t.r.session(w.session.id)).status).toBe('active')

    // A minute later it is taken for interrupted (the clock moved on: the halt two minutes ago, the session before it).
    await t.h.db.update(outbox).set({ createdAt: sql`now() - interval '2 minutes'` }).where(eq(outbox.walletId, w.wallet.id))
    await t.h.db.update(sessions).set({ createdAt: sql`now() - interval '3 minutes'` }).where(eq(sessions.id, w.session.id))
    await t.worker.maintainSessions(w.wallet.id)
    expect(await t.r.session(w.session.id)).toMatchObject({ status: 'revoked', statusReason: 'compromise: key leaked', revokedAt: expect.any(Date) })
    expect(operatorDelegation(t.h.sandbox, w.session.delegationHash)?.revoked).toBe(true)
    expect((await t.r.audit(w.wallet.id, 'session.ended')).map((a) => a.details)).toEqual([{ sessionId: w.session.id, reason: 'compromise: key leaked', interrupted: true }])
    expect(await t.r.audit(w.wallet.id, 'session.revoked')).toHaveLength(1)
    expect(alerts).toContainEqual(expect.objectContaining({ walletId: w.wallet.id, code: 'SESSION_COMPROMISE', message: expect.stringContaining('interrupted') }))
    // Resumed, the wallet awaits a new delegation: nothing trades under the keys in doubt.
    expect(await resumeWallet(t.h.db, { walletId: w.wallet.id })).toEqual({ status: 'awaiting_delegation' })

    // A session granted after the compromise is the user's new one: maintenance leaves it be.
    const { session: next } = await grant(t.h, w)
    await t.worker.maintainSessions(w.wallet.id)
    expect((await t.r.session(next.id)).status).toBe('active')
  })

  it('resumed before session maintenance finished it: the resume ends the sessions in doubt, and the wallet awaits a new delegation', async () => {
    const w = await activeWallet(t.h)
    await withFirstWriteFailing(t.h.db, { name: 'fail_ended_resume', table: 'audit_log', when: "new.action = 'session.ended'", message: 'audit insert failed (test)' }, async () => {
      await expect(compromiseWallet(t.worker.deps, t.h.keyring, { walletId: w.wallet.id, reason: 'key leaked' })).rejects.toMatchObject({ cause: { message: 'audit insert failed (test)' } })
    })
    expect((await t.r.session(w.session.id)).status).toBe('active')

    // At once, the CancelAll done: before any maintenance run could take the compromise for interrupted.
    expect(await resumeWallet(t.h.db, { walletId: w.wallet.id })).toEqual({ status: 'awaiting_delegation' })
    expect(await t.r.session(w.session.id)).toMatchObject({ status: 'revoked', statusReason: 'compromise: key leaked', revokedAt: null })
    expect((await t.r.audit(w.wallet.id, 'session.ended')).map((a) => [a.actor, a.details])).toEqual([['api', { sessionId: w.session.id, reason: 'compromise: key leaked', interrupted: true }]])
    expect((await t.r.audit(w.wallet.id, 'wallet.resumed')).map((a) => a.details)).toEqual([{ status: 'awaiting_delegation', endedSessions: [w.session.id] }])
    // Its delegation is revoked at the operator by the next maintenance run.
    await t.worker.maintainSessions(w.wallet.id)
    expect(operatorDelegation(t.h.sandbox, w.session.delegationHash)?.revoked).toBe(true)
  })

  it('one wallet\'s failing to finish holds up neither the others nor the run; the next run finishes it', async () => {
    const a = await activeWallet(t.h)
    const b = await activeWallet(t.h)
    for (const w of [a, b]) {
      await withFirstWriteFailing(t.h.db, { name: 'fail_ended_pair', table: 'audit_log', when: "new.action = 'session.ended'", message: 'audit insert failed (test)' }, async () => {
        await expect(compromiseWallet(t.worker.deps, t.h.keyring, { walletId: w.wallet.id, reason: 'key leaked' })).rejects.toMatchObject({ cause: { message: 'audit insert failed (test)' } })
      })
      await t.h.db.update(outbox).set({ createdAt: sql`now() - interval '2 minutes'` }).where(eq(outbox.walletId, w.wallet.id))
      await t.h.db.update(sessions).set({ createdAt: sql`now() - interval '3 minutes'` }).where(eq(sessions.id, w.session.id))
    }
    // Wallet a's finish fails once (its session.ended entry refused), as a lock waited on past the statement timeout would.
    await withFirstWriteFailing(t.h.db, { name: 'fail_finish_a', table: 'audit_log', when: `new.action = 'session.ended' and new.details->>'sessionId' = '${a.session.id}'`, message: 'audit insert failed (test)' }, async () => {
      await t.worker.maintainSessions()
    })
    expect((await t.r.session(a.session.id)).status).toBe('active')
    expect((await t.r.session(b.session.id)).status).toBe('revoked')
    await t.worker.maintainSessions(a.wallet.id)
    expect((await t.r.session(a.session.id)).status).toBe('revoked')
  })
})
