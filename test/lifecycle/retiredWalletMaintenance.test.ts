/**
 * A wallet row retired when its address's owner proved ownership for another tenant
 * (`takeUnprovenWallet`) is asked for nothing by session maintenance: its address is registered
 * again on a row of its own, which the grants are for. A worker holding a key for the address (a
 * development key) would otherwise grant the retired row a session of its own.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { sessions, wallets } from '../../src/store/schema/index.js'
import type { LocalWalletSigner } from '../../src/signers/LocalWalletSigner.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { bareWallet, eventually } from './support/lifecycle.js'

let h: Harness
let worker: RunningWorker
const signers = new Map<string, LocalWalletSigner>()

beforeAll(async () => {
  h = await createHarness()
  worker = await h.startWorker({ walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()), maintenanceIntervalMs: 3_600_000 })
  // The run the job scheduler makes as it starts is done before the test's own.
  await eventually(async () => (await worker.controlQueue.getJobs(['completed'])).some((job) => job.name === 'maintainSessions'))
})
afterAll(async () => { await h?.close() })

it('grants no session to a retired wallet, though a wallet signer for its address is at hand', async () => {
  const w = await bareWallet(h)
  signers.set(w.wallet.address.toLowerCase(), w.signer)
  await h.db.update(wallets).set({ retiredAt: new Date() }).where(eq(wallets.id, w.wallet.id))
  const report = await worker.maintainSessions(w.wallet.id)
  expect(report).toMatchObject({ failures: 0 })
  expect(await h.db.select().from(sessions).where(eq(sessions.walletId, w.wallet.id))).toEqual([])
})
