/**
 * Automatic grants back off on a wallet's recent session failures (`failed_at`), timed on the
 * worker's clock. A failure learnt from the operator's SessionRevoked event was recorded at the
 * event's `at`, which is the operator's clock: with the operator an hour ahead, a wallet whose
 * sessions the operator revoked twice waited an hour and the backoff for its next session (its
 * work held all that time); with the operator more than an hour behind, the failures fell outside
 * the window and the wallet signer was asked again on every maintenance run.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { applyEvents } from '../../jobs/applyEvent.js'
import { type SessionRow, wallets } from '../../src/store/schema/index.js'
import type { VenueEvent } from '../../src/venue/types.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, eventually, grant, rows } from './support/lifecycle.js'

const BASE_MS = 2_000
const HOUR_MS = 3_600_000
let h: Harness
let worker: RunningWorker
const signers = new Map<string, WalletSigner>()

beforeAll(async () => {
  h = await createHarness()
  // The operator's clock runs an hour ahead of this host's; the worker measures the offset as it starts.
  h.sandbox.advanceClock(HOUR_MS)
  worker = await h.startWorker({
    streams: false,
    walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
    maintenanceIntervalMs: 3_600_000,
    grantRetryBaseMs: BASE_MS,
  })
})
afterAll(async () => { await h?.close() })

it("records a session the operator's event ended as failed on the worker's clock: the next grant waits the backoff, not the clocks' difference", async () => {
  const r = rows(h.db)
  const w = await activeWallet(h)
  signers.set(w.wallet.address.toLowerCase(), w.signer)
  let seq = 0
  // What the operator's stream says, stamped with its own clock.
  const revokedAtOperator = (session: SessionRow): VenueEvent =>
    ({ seq: String(++seq), type: 'SessionRevoked', wallet: w.signer.address, at: h.sandbox.now(), data: { delegation: session.delegationHash } })

  await applyEvents(h.db, w.wallet.id, [revokedAtOperator(w.session)])
  const { session: second } = await grant(h, w)
  await applyEvents(h.db, w.wallet.id, [revokedAtOperator(second)])
  for (const session of [w.session, second]) {
    expect(Math.abs((await r.session(session.id)).failedAt!.getTime() - worker.deps.now())).toBeLessThan(60_000)
  }

  // As the event stream leaves a wallet whose sessions ended at the operator (`sessionEndedAtOperator`).
  await h.db.update(wallets).set({ status: 'awaiting_delegation' }).where(eq(wallets.id, w.wallet.id))
  // Two failures within the hour: the next automatic grant waits BASE_MS after the latest, and no longer.
  const third = await eventually(async () => {
    await worker.maintainSessions(w.wallet.id)
    return (await r.sessionsOf(w.wallet.id)).find((s) => s.status === 'active')
  }, 3 * BASE_MS, 250)
  expect([w.session.id, second.id]).not.toContain(third.id)
  signers.delete(w.wallet.address.toLowerCase())
})
