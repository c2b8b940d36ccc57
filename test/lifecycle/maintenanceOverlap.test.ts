/**
 * Session maintenance runs every few seconds on the control queue, beside reconciliation and the
 * rebalancing runs. While the custody signer hangs (Privy not answering: a minute per call with its
 * retries), one run lasts minutes; the runs the scheduler starts meanwhile must not pile up beside
 * it, each blocked on the next wallet's grant, until they hold every control slot and no
 * reconciliation or schedule run can start. A run serves `WALLETS_AT_ONCE` wallets at once: with
 * more wallets than that hanging, the ones behind them wait for the run, not for another run.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { WALLETS_AT_ONCE } from '../../jobs/maintainSessions.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { bareWallet, eventually } from './support/lifecycle.js'

let h: Harness
let worker: RunningWorker
let release!: () => void
const hung = new Promise<void>((resolve) => { release = resolve })
let inFlight = 0
let mostAtOnce = 0
const hanging = async (): Promise<never> => {
  mostAtOnce = Math.max(mostAtOnce, ++inFlight)
  try {
    await hung
  } finally {
    inFlight--
  }
  throw new Error('custody API unavailable')
}

beforeAll(async () => {
  h = await createHarness()
  // Two wallets more than a run serves at once, awaiting a first session, whose signer never answers while the test runs.
  const wallets = await Promise.all(Array.from({ length: WALLETS_AT_ONCE + 2 }, () => bareWallet(h)))
  const signers = new Map(wallets.map((w) => [w.wallet.address.toLowerCase(), { kind: 'privy', address: w.signer.address, signDelegation: hanging, signRevocation: hanging } satisfies WalletSigner]))
  worker = await h.startWorker({ walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()), maintenanceIntervalMs: 250, streams: false })
})
afterAll(async () => {
  release?.()
  await h?.close()
})

it('a maintenance run stuck on the custody signer is not joined by more, and reconciliation still runs beside it', async () => {
  await eventually(async () => inFlight === WALLETS_AT_ONCE)
  // A dozen periods later: still one run, blocked on as many wallets' grants as it serves at once.
  await new Promise((resolve) => setTimeout(resolve, 3_000))
  expect(mostAtOnce).toBe(WALLETS_AT_ONCE)
  const job = await worker.controlQueue.add('reconcile', { reason: 'manual' })
  await eventually(async () => (await job.getState()) === 'completed', 10_000)
})
