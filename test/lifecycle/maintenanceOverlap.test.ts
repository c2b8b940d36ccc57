/**
 * Session maintenance runs every few seconds on the control queue, beside reconciliation and the
 * rebalancing runs. While the custody signer hangs (Privy not answering: a minute per call with its
 * retries), one run lasts minutes; the runs the scheduler starts meanwhile must not pile up beside
 * it, each blocked on the next wallet's grant, until they hold every control slot and no
 * reconciliation or schedule run can start.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
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
  // Four wallets awaiting a first session, whose signer never answers while the test runs.
  const wallets = await Promise.all([1, 2, 3, 4].map(() => bareWallet(h)))
  const signers = new Map(wallets.map((w) => [w.wallet.address.toLowerCase(), { kind: 'privy', address: w.signer.address, signDelegation: hanging, signRevocation: hanging } satisfies WalletSigner]))
  worker = await h.startWorker({ walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()), maintenanceIntervalMs: 250, streams: false })
})
afterAll(async () => {
  release?.()
  await h?.close()
})

it('a maintenance run stuck on the custody signer is not joined by more, and reconciliation still runs beside it', async () => {
  await eventually(async () => inFlight === 1)
  // A dozen periods later: still one run, blocked on one wallet's grant.
  await new Promise((resolve) => setTimeout(resolve, 3_000))
  expect(mostAtOnce).toBe(1)
  const job = await worker.controlQueue.add('reconcile', { reason: 'manual' })
  await eventually(async () => (await job.getState()) === 'completed', 10_000)
})
