/**
 * Session maintenance marks expired sessions, audits them and marks their wallets awaiting a
 * delegation in one transaction. The wallet was marked in a statement of its own after the rest: a
 * crash between left the wallet `active` with no session, which no later run found due for a grant
 * (only an `awaiting_delegation` wallet without a session is), so a wallet with a signer stayed
 * without a session until work of its own was held for one. The crash is a failure of the wallet's
 * update, once (`withFirstWriteFailing`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import type { RunningWorker } from '../../src/worker.js'
import { withFirstWriteFailing } from '../support/firstWriteFailing.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { bareWallet, grant, rows } from './support/lifecycle.js'

let h: Harness
let worker: RunningWorker
let r: ReturnType<typeof rows>
const signers = new Map<string, WalletSigner>()

beforeAll(async () => {
  h = await createHarness()
  r = rows(h.db)
  worker = await h.startWorker({
    now: () => h.sandbox.now(),
    maintenanceIntervalMs: 3_600_000,
    walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
  })
})
afterAll(async () => { await h?.close() })

describe('a session that expired', () => {
  it('is replaced by the next maintenance run even when the run that marked it expired failed half-way', async () => {
    const w = await bareWallet(h)
    const { session: expiring } = await grant(h, w, { lifetimeSeconds: 3600 + 60 })
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    h.sandbox.advanceClock(expiring.expiryUnix * 1000 + 20_000 - h.sandbox.now())

    await withFirstWriteFailing(h.db, { name: 'fail_awaiting', table: 'wallets', on: 'update', when: "new.status = 'awaiting_delegation'", message: 'wallet update failed (test)' }, async () => {
      await expect(worker.maintainSessions(w.wallet.id)).rejects.toThrow()
      // Nothing of the expiry is stored: the run that follows finds it as this one did.
      expect((await r.session(expiring.id)).status).toBe('active')
      expect(await r.audit(w.wallet.id, 'session.expired')).toEqual([])

      await worker.maintainSessions(w.wallet.id)
    })
    expect((await r.session(expiring.id)).status).toBe('expired')
    expect(await r.audit(w.wallet.id, 'session.expired')).toHaveLength(1)
    const live = (await r.sessionsOf(w.wallet.id)).filter((s) => s.status === 'active')
    expect(live).toHaveLength(1)
    expect(live[0]!.expiryUnix).toBeGreaterThan(Math.floor(h.sandbox.now() / 1000))
    expect((await r.wallet(w.wallet.id)).status).toBe('active')
  })
})
