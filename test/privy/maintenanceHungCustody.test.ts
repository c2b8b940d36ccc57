/**
 * Session maintenance asks the custody service (Privy) for each due wallet's Delegation. A call
 * that hangs (Privy not answering: its client gives up after about a minute of attempts) must hold
 * up that wallet alone: not the other wallets' rotations in the same run, nor, once the run's wait
 * for one wallet has passed, the wallets that fall due in later runs.
 */
import { and, eq } from 'drizzle-orm'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ensureWallet } from '../../src/runtime/wallets.js'
import { readWalletSignerEnv } from '../../src/signers/createWalletSigner.js'
import { buildDelegationPolicy } from '../../src/signers/privy/buildDelegationPolicy.js'
import { createCustodySigners } from '../../src/signers/custodySigners.js'
import { LocalWalletSigner } from '../../src/signers/LocalWalletSigner.js'
import { sessions, wallets } from '../../src/store/schema/index.js'
import { createHarness, eventually, type Harness } from '../worker/support/harness.js'
import { grant } from '../lifecycle/support/lifecycle.js'
import { createSessionSigner, type SessionSigner } from './support/fixtures.js'
import { type LocalPrivy, startLocalPrivy } from './support/localPrivy.js'

let h: Harness
let privy: LocalPrivy
let signer: SessionSigner
let policyId: string
let custody: ReturnType<typeof createCustodySigners>
let release: () => void
/** The Privy wallet whose signing requests Privy holds: the first one asked to sign. */
let hung: string | undefined
let first: Awaited<ReturnType<typeof dueCustodyWallet>>
let second: Awaited<ReturnType<typeof dueCustodyWallet>>

/** A wallet in custody at Privy, with Deputy's session signer on it, whose session (2 h left) is due for rotation (lead 3 h). */
async function dueCustodyWallet() {
  const privateKey = generatePrivateKey()
  const { wallet: privyWallet } = privy.state.createUserWithWallet({ privateKey })
  privy.state.addSessionSigner(privyWallet.id, signer.quorumId, [policyId])
  const wallet = await ensureWallet(h.db, privyWallet.address)
  await h.db.update(wallets).set({ custodyWalletId: privyWallet.id }).where(eq(wallets.id, wallet.id))
  h.sandbox.fund(privyWallet.address, 'USD', '10000')
  const { session } = await grant(h, { signer: LocalWalletSigner.fromPrivateKey(privateKey), wallet }, { lifetimeSeconds: 2 * 3600 })
  return { privyWalletId: privyWallet.id, wallet, session }
}

async function activeSession(walletId: string) {
  const [active] = await h.db.select().from(sessions).where(and(eq(sessions.walletId, walletId), eq(sessions.status, 'active')))
  return active
}

/** The wallet's active session once it is a new one (rotated), signed for by Privy. */
function rotated(w: { wallet: { id: string }; session: { id: string } }) {
  return eventually(async () => {
    const active = await activeSession(w.wallet.id)
    return active && active.id !== w.session.id && active
  }, 20_000)
}

beforeAll(async () => {
  h = await createHarness()
  privy = await startLocalPrivy()
  signer = createSessionSigner(privy)
  policyId = privy.state.createPolicy(buildDelegationPolicy({ name: h.sandbox.domain.name, chainId: h.sandbox.domain.chainId, verifyingContract: h.sandbox.domain.verifyingContract })).id
  custody = createCustodySigners(readWalletSignerEnv({
    WALLET_SIGNER: 'privy', PRIVY_APP_ID: privy.appId, PRIVY_APP_SECRET: privy.appSecret,
    PRIVY_AUTHORIZATION_KEYS: signer.privateKeys.join(','), PRIVY_API_URL: privy.url,
  }))
  first = await dueCustodyWallet()
  second = await dueCustodyWallet()
  // Whichever wallet the worker asks Privy about first, Privy never answers for it while the test runs.
  release = privy.holdRpc((walletId) => (hung ??= walletId) === walletId)
  await h.startWorker({
    walletSignerFor: (wallet) => custody.for(wallet), rotateLeadSeconds: 3 * 3600, maintenanceIntervalMs: 500, streams: false,
    maintenanceWalletDeadlineMs: 3_000,
  })
})
afterAll(async () => {
  release?.()
  await h?.close()
  await privy?.close()
})

it('a wallet whose custody call hangs does not hold up the rotation of another wallet due in the same run', async () => {
  await eventually(async () => hung !== undefined)
  const [stuck, other] = hung === first.privyWalletId ? [first, second] : [second, first]
  const session = await rotated(other)
  expect(session.walletSigner).toBe('privy')
  // Still waiting for Privy: its session is the one it had.
  expect((await activeSession(stuck.wallet.id))?.id).toBe(stuck.session.id)
})

it('a run does not wait out the hung call: a wallet due later is rotated by a later run while it still hangs', async () => {
  const later = await dueCustodyWallet()
  await rotated(later)
  const stuck = hung === first.privyWalletId ? first : second
  expect((await activeSession(stuck.wallet.id))?.id).toBe(stuck.session.id)
})

it('once the custody service answers, the wallet whose call hung is rotated too, and no wallet has two active sessions', async () => {
  release()
  const stuck = hung === first.privyWalletId ? first : second
  await rotated(stuck)
  for (const w of [first, second]) {
    const active = await h.db.select().from(sessions).where(and(eq(sessions.walletId, w.wallet.id), eq(sessions.status, 'active')))
    expect(active).toHaveLength(1)
  }
})
