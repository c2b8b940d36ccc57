import { eq } from 'drizzle-orm'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { placeLimitOrder } from '../../src/runtime/intake/placeLimitOrder.js'
import { ensureWallet } from '../../src/runtime/wallets.js'
import { readWalletSignerEnv } from '../../src/signers/createWalletSigner.js'
import { buildDelegationPolicy } from '../../src/signers/privy/buildDelegationPolicy.js'
import { createCustodySigners } from '../../src/signers/custodySigners.js'
import { createWalletSignerRegistry } from '../../src/runtime/walletSignerRegistry.js'
import { sessions, wallets } from '../../src/store/schema/index.js'
import { createHarness, eventually, type Harness } from '../worker/support/harness.js'
import { createSessionSigner } from './support/fixtures.js'
import { type LocalPrivy, startLocalPrivy } from './support/localPrivy.js'
import { openWithSession } from '../lifecycle/support/lifecycle.js'

let h: Harness
let privy: LocalPrivy

beforeAll(async () => {
  h = await createHarness()
  privy = await startLocalPrivy()
})
afterAll(async () => {
  await h?.close()
  await privy?.close()
})

/**
 * A user's Privy embedded wallet with Deputy's session signer on it, bound by the delegation policy,
 * and the wallet signers as `deputy worker` composes them: development keys first, then the custody service.
 */
function custodyWallet() {
  const signer = createSessionSigner(privy)
  const policy = privy.state.createPolicy(buildDelegationPolicy({ name: h.sandbox.domain.name, chainId: h.sandbox.domain.chainId, verifyingContract: h.sandbox.domain.verifyingContract }))
  const { wallet: privyWallet } = privy.state.createUserWithWallet()
  privy.state.addSessionSigner(privyWallet.id, signer.quorumId, [policy.id])
  const custody = createCustodySigners(readWalletSignerEnv({
    WALLET_SIGNER: 'privy', PRIVY_APP_ID: privy.appId, PRIVY_APP_SECRET: privy.appSecret,
    PRIVY_AUTHORIZATION_KEYS: signer.privateKeys.join(','), PRIVY_API_URL: privy.url,
  }))
  return { privyWallet, registry: createWalletSignerRegistry({ allowLocal: false, fallback: (w) => custody.for(w) }) }
}

/**
 * Session maintenance runs only when a test calls it: a periodic run (every 10 s by default, on
 * whichever worker of the file takes the job) between a test's set-up and its own call would grant
 * or skip the wallets first, and the call would report otherwise.
 */
const maintenanceRunHere = { maintenanceIntervalMs: 3_600_000 }

describe('WALLET_SIGNER=privy', () => {
  it('the worker obtains the Delegation from the user\'s Privy wallet and trades with it', async () => {
    const { privyWallet, registry } = custodyWallet()
    const wallet = await ensureWallet(h.db, privyWallet.address)
    await h.db.update(wallets).set({ custodyWalletId: privyWallet.id }).where(eq(wallets.id, wallet.id))
    h.sandbox.fund(privyWallet.address, 'USD', '10000')

    const worker = await h.startWorker({ walletSignerFor: (w) => registry.signerFor(w), ...maintenanceRunHere })
    // The wallet has no session yet: session maintenance (scheduled at start-up, or run here)
    // asks Privy for a Delegation and activates it.
    const report = await worker.maintainSessions(wallet.id)
    expect(report.failures).toBe(0)
    const session = await eventually(async () => {
      const rows = await h.db.select().from(sessions).where(eq(sessions.walletId, wallet.id))
      return rows.length === 1 && rows[0]!.status === 'active' && rows[0]
    })
    expect(session.walletSigner).toBe('privy')
    expect(privy.signCount).toBe(1)

    const { order } = await placeLimitOrder(h.db, worker.markets, { walletId: wallet.id, market: 'ETH-USD', side: 'buy', price: '1990', size: '1' }, new Date())
    await worker.relay()
    const open = await openWithSession(h.db, order.id)
    expect(open.sessionId).toBe(session!.id)
    await worker.close(5_000)
  })

  it('a wallet stored with a custody wallet id Privy cannot have fails its own grant with the reason, and the other wallets are still served', async () => {
    const { privyWallet, registry } = custodyWallet()
    // The user's Privy id where the wallet id belongs (a row stored before the API refused such an id).
    const mistaken = await ensureWallet(h.db, privateKeyToAccount(generatePrivateKey()).address)
    await h.db.update(wallets).set({ custodyWalletId: 'did:privy:cm0000000000000000000user' }).where(eq(wallets.id, mistaken.id))
    const good = await ensureWallet(h.db, privyWallet.address)
    await h.db.update(wallets).set({ custodyWalletId: privyWallet.id }).where(eq(wallets.id, good.id))

    const worker = await h.startWorker({ walletSignerFor: (w) => registry.signerFor(w), ...maintenanceRunHere })
    const report = await worker.maintainSessions()
    expect(report.failures).toBe(1)
    const [active] = await h.db.select().from(sessions).where(eq(sessions.walletId, good.id))
    expect(active?.status).toBe('active')
    const [failed] = await h.db.select().from(sessions).where(eq(sessions.walletId, mistaken.id))
    expect(failed).toMatchObject({ status: 'revoked', statusReason: expect.stringContaining('wallet id is malformed') })
  })

  it('without a custody wallet id nobody can sign, so the wallet waits for a delegation', async () => {
    const custody = createCustodySigners(readWalletSignerEnv({
      WALLET_SIGNER: 'privy', PRIVY_APP_ID: privy.appId, PRIVY_APP_SECRET: privy.appSecret,
      PRIVY_AUTHORIZATION_KEYS: createSessionSigner(privy).privateKeys.join(','), PRIVY_API_URL: privy.url,
    }))
    expect(custody.for({ address: '0x0000000000000000000000000000000000000001' })).toBeUndefined()
    expect(custody.for({ address: '0x0000000000000000000000000000000000000001', custodyWalletId: 'w1' })?.kind).toBe('privy')
  })
})
