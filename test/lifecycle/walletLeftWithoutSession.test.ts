/**
 * A wallet must not be left `active` with no session: session maintenance grants a wallet without a
 * session only when it awaits one (`awaiting_delegation`), so a wallet with a signer left so stayed
 * without a session until work of its own was held for one.
 * - Expiry: maintenance marks expired sessions, audits them and marks their wallets in one
 *   transaction. The wallet was marked in a statement of its own: a crash between left it so. The
 *   crash is a failure of the wallet's update, once (`withFirstWriteFailing`).
 * - Any other path that ends a session and marks its wallet in a later transaction (the operator's
 *   SessionRevoked, applied with the event batch, the wallet marked after it), interrupted between
 *   the two: every maintenance run marks such a wallet awaiting a delegation, and grants it one.
 */
import { describe, expect, it } from 'vitest'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import { eq } from 'drizzle-orm'
import { sessions } from '../../src/store/schema/index.js'
import { withFirstWriteFailing } from '../support/firstWriteFailing.js'
import { bareWallet, grant } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const signers = new Map<string, WalletSigner>()

const t = workerForFile({
  now: () => t.h.sandbox.now(),
  maintenanceIntervalMs: 3_600_000,
  walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
})

describe('a wallet whose session ended', () => {
  it('expired: is granted a new one by the next maintenance run even when the run that marked it expired failed half-way', async () => {
    const w = await bareWallet(t.h)
    const { session: expiring } = await grant(t.h, w, { lifetimeSeconds: 3600 + 60 })
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    t.h.sandbox.advanceClock(expiring.expiryUnix * 1000 + 20_000 - t.h.sandbox.now())

    await withFirstWriteFailing(t.h.db, { name: 'fail_awaiting', table: 'wallets', on: 'update', when: "new.status = 'awaiting_delegation'", message: 'wallet update failed (test)' }, async () => {
      await expect(t.worker.maintainSessions(w.wallet.id)).rejects.toMatchObject({ cause: { message: 'wallet update failed (test)' } })
      // Nothing of the expiry is stored: the run that follows finds it as this one did.
      expect((await t.r.session(expiring.id)).status).toBe('active')
      expect(await t.r.audit(w.wallet.id, 'session.expired')).toEqual([])

      await t.worker.maintainSessions(w.wallet.id)
    })
    expect((await t.r.session(expiring.id)).status).toBe('expired')
    expect(await t.r.audit(w.wallet.id, 'session.expired')).toHaveLength(1)
    const live = (await t.r.sessionsOf(w.wallet.id)).filter((s) => s.status === 'active')
    expect(live).toHaveLength(1)
    expect(live[0]!.expiryUnix).toBeGreaterThan(Math.floor(t.h.sandbox.now() / 1000))
    expect((await t.r.wallet(w.wallet.id)).status).toBe('active')
  })

  it('ended by a write its wallet\'s mark did not follow: is marked awaiting a delegation and granted a new one by the next maintenance run', async () => {
    const w = await bareWallet(t.h)
    const { session: ended } = await grant(t.h, w)
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    // What the event batch records of the operator's SessionRevoked, the process dying before the wallet is marked.
    await t.h.db.update(sessions).set({ status: 'revoked', statusReason: 'operator event SessionRevoked', revokedAt: new Date() }).where(eq(sessions.id, ended.id))
    expect((await t.r.wallet(w.wallet.id)).status).toBe('active')

    await t.worker.maintainSessions(w.wallet.id)
    const live = (await t.r.sessionsOf(w.wallet.id)).filter((s) => s.status === 'active')
    expect(live).toHaveLength(1)
    expect(live[0]!.id).not.toBe(ended.id)
    expect((await t.r.wallet(w.wallet.id)).status).toBe('active')
  })

  it('a wallet with an active session is left as it is', async () => {
    const w = await bareWallet(t.h)
    const { session } = await grant(t.h, w)
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    await t.worker.maintainSessions(w.wallet.id)
    expect((await t.r.sessionsOf(w.wallet.id)).map((s) => [s.id, s.status])).toEqual([[session.id, 'active']])
    expect((await t.r.wallet(w.wallet.id)).status).toBe('active')
  })
})
