/**
 * A wallet compromised while a maintenance run works through other wallets it read as due: the
 * run grants it nothing (a compromised wallet is never re-delegated automatically).
 */
/**
 * A maintenance run rotates every due wallet in turn, each grant waiting for its wallet signer
 * (Privy: a network round trip). A wallet compromised while the run works through the others must
 * not be re-delegated by that run: "a compromised wallet is never re-delegated automatically".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, rows } from './support/lifecycle.js'

let h: Harness
let worker: RunningWorker
const signers = new Map<string, WalletSigner>()

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({
    walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
    rotateLeadSeconds: 3 * 3600, rotationGraceMs: 1_000, maintenanceIntervalMs: 3_600_000,
  })
})
afterAll(async () => { await h?.close() })

describe('a compromise during a maintenance run', () => {
  it('the run does not grant the compromised wallet a new session', async () => {
    const r = rows(h.db)
    // Both due for rotation (2 h left, the lead is 3 h).
    const a = await activeWallet(h, { lifetimeSeconds: 2 * 3600 })
    const b = await activeWallet(h, { lifetimeSeconds: 2 * 3600 })
    let compromised: string | undefined
    // Whichever wallet the run signs for first, the other is compromised while its signer answers.
    for (const [self, other] of [[a, b], [b, a]] as const) {
      signers.set(self.wallet.address.toLowerCase(), {
        kind: 'local', address: self.signer.address,
        signDelegation: async (typedData) => {
          if (!compromised) {
            compromised = other.wallet.id
            await worker.compromise(other.wallet.id, 'custody breach')
          }
          return self.signer.signDelegation(typedData)
        },
        signRevocation: (typedData) => self.signer.signRevocation(typedData),
      })
    }
    await worker.maintainSessions()
    const victim = compromised!
    expect((await r.wallet(victim)).status).toBe('halted')
    const statuses = (await r.sessionsOf(victim)).map((s) => s.status)
    // Expected: its one session revoked by the compromise, and nothing granted after it.
    expect(statuses).toEqual(['revoked'])
  })
})
