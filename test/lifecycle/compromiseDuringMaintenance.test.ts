/**
 * A wallet compromised while a maintenance run works through other wallets it read as due: the
 * run grants it nothing (a compromised wallet is never re-delegated automatically).
 */
/**
 * A maintenance run rotates the due wallets a few at a time, each grant waiting for its wallet
 * signer (Privy: a network round trip). A wallet compromised while the run works through the others
 * must not be re-delegated by that run: "a compromised wallet is never re-delegated automatically".
 * Its own grant may be under way already (the run serves it beside the others): then the wallet
 * may have signed, but the compromise ends that grant, which never goes live, and the run revokes
 * its delegation at the operator; or the grant starts after the compromise and meets the halted wallet.
 */
import { describe, expect, it } from 'vitest'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import { activeWallet, operatorDelegation, rows } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const signers = new Map<string, WalletSigner>()

const t = workerForFile({
  walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
  rotateLeadSeconds: 3 * 3600, rotationGraceMs: 1_000, maintenanceIntervalMs: 3_600_000,
})

describe('a compromise during a maintenance run', () => {
  it('the run does not grant the compromised wallet a new session', async () => {
    const r = rows(t.h.db)
    // Both due for rotation (2 h left, the lead is 3 h).
    const a = await activeWallet(t.h, { lifetimeSeconds: 2 * 3600 })
    const b = await activeWallet(t.h, { lifetimeSeconds: 2 * 3600 })
    let compromised: string | undefined
    let compromise: Promise<unknown> | undefined
    // Whichever wallet the run signs for first, the other is compromised while its signer answers.
    // The other's grant, under way beside it, signs once the compromise is done (a custody call
    // slower than the compromise).
    for (const [self, other] of [[a, b], [b, a]] as const) {
      signers.set(self.wallet.address.toLowerCase(), {
        kind: 'local', address: self.signer.address,
        signDelegation: async (typedData) => {
          if (!compromised) {
            compromised = other.wallet.id
            compromise = t.worker.compromise(other.wallet.id, 'custody breach')
          }
          await compromise
          return self.signer.signDelegation(typedData)
        },
        signRevocation: (typedData) => self.signer.signRevocation(typedData),
      })
    }
    await t.worker.maintainSessions()
    const victim = compromised!
    expect((await r.wallet(victim)).status).toBe('halted')
    const victimSessions = await r.sessionsOf(victim)
    const original = victim === a.wallet.id ? a.session : b.session
    // Its session revoked by the compromise, and nothing granted after it went live.
    expect(victimSessions.map((s) => s.status)).toEqual(victimSessions.map(() => 'revoked'))
    expect(victimSessions.filter((s) => s.activatedAt !== null).map((s) => s.id)).toEqual([original.id])
    // Whatever the wallet signed meanwhile is revoked at the operator.
    for (const session of victimSessions.filter((s) => s.delegationHash !== null)) {
      expect(session.revokedAt).not.toBeNull()
      expect(operatorDelegation(t.h.sandbox, session.delegationHash)?.revoked).toBe(true)
    }
  })
})
