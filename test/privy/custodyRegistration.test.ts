import { randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { Wallet as EthersWallet } from 'ethers'
import type { FastifyInstance } from 'fastify'
import { type Hex, getAddress } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiDepsFromWorker } from '../../src/api/ApiDeps.js'
import { buildApi } from '../../src/api/buildApi.js'
import { walletRegistrationTypedData } from '../../src/core/wallets/walletRegistrationTypedData.js'
import { createWalletSignerRegistry } from '../../src/runtime/walletSignerRegistry.js'
import { readWalletSignerEnv } from '../../src/signers/createWalletSigner.js'
import { buildDelegationPolicy } from '../../src/signers/privy/buildDelegationPolicy.js'
import { createCustodySigners } from '../../src/signers/custodySigners.js'
import { wallets } from '../../src/store/schema/index.js'
import { type Harness, createHarness } from '../worker/support/harness.js'
import { createSessionSigner } from './support/fixtures.js'
import { type LocalPrivy, startLocalPrivy } from './support/localPrivy.js'

// One Privy app serves every tenant of a deployment, and Deputy's session signer can have any of
// its users' wallets sign a Delegation: a custody wallet id is taken only with the wallet's own
// signature of a WalletRegistration naming the tenant.
let h: Harness
let privy: LocalPrivy
let app: FastifyInstance
let adminToken: string
let signer: ReturnType<typeof createSessionSigner>
let policyId: string

beforeAll(async () => {
  h = await createHarness()
  privy = await startLocalPrivy()
  signer = createSessionSigner(privy)
  policyId = privy.state.createPolicy(buildDelegationPolicy({ name: h.sandbox.domain.name, chainId: h.sandbox.domain.chainId, verifyingContract: h.sandbox.domain.verifyingContract })).id
  const custody = createCustodySigners(readWalletSignerEnv({
    WALLET_SIGNER: 'privy', PRIVY_APP_ID: privy.appId, PRIVY_APP_SECRET: privy.appSecret,
    PRIVY_AUTHORIZATION_KEYS: signer.privateKeys.join(','), PRIVY_API_URL: privy.url,
  }))
  const walletSigners = createWalletSignerRegistry({ allowLocal: false, fallback: (w) => custody.for(w) })
  const worker = await h.startWorker({ walletSignerFor: () => undefined, maintenanceIntervalMs: 3_600_000 })
  adminToken = randomBytes(24).toString('base64url')
  app = await buildApi(apiDepsFromWorker(worker, { keyring: h.keyring, walletSigners, adminToken }), { logger: false })
}, 120_000)
afterAll(async () => { await app?.close(); await h?.close(); await privy?.close() })

async function tenant() {
  const created = await app.inject({ method: 'POST', url: '/admin/tenants', headers: { authorization: `Bearer ${adminToken}` }, payload: { name: `t-${randomBytes(4).toString('hex')}` } })
  const { tenant: { id }, apiKey: { key } } = created.json<{ tenant: { id: string }; apiKey: { key: string } }>()
  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => app.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload ? { payload } : {}) })
  return { id, call }
}

/** A Privy user's embedded wallet with Deputy's session signer added; its key is the user's, held here to sign as the user's app would. */
function userWallet() {
  const privateKey = generatePrivateKey()
  const { wallet } = privy.state.createUserWithWallet({ privateKey })
  privy.state.addSessionSigner(wallet.id, signer.quorumId, [policyId])
  h.sandbox.fund(wallet.address, 'USD', '10000')
  return { privateKey, address: getAddress(wallet.address), custodyWalletId: wallet.id }
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600

async function viemProof(privateKey: Hex, tenantId: string, custodyWalletId: string, deadline = inAnHour()) {
  const signature = await privateKeyToAccount(privateKey).signTypedData(walletRegistrationTypedData({ tenant: tenantId, custodyWalletId, deadline: BigInt(deadline) }))
  return { deadline, signature }
}

const walletRows = (address: string) => h.db.select().from(wallets).where(eq(wallets.address, address))

describe('registering a custody wallet', () => {
  it("is accepted with the wallet's signature of a WalletRegistration for the tenant, and its Delegation is then signed at Privy", async () => {
    const a = await tenant()
    const user = userWallet()
    const registered = await a.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId, ownership: await viemProof(user.privateKey, a.id, user.custodyWalletId) })
    expect(registered.statusCode, registered.body).toBe(201)
    const before = privy.signCount
    const granted = await a.call('POST', `/v1/wallets/${registered.json<{ id: string }>().id}/sessions`, { needs: { limitOrders: true } })
    expect(granted.statusCode, granted.body).toBe(201)
    expect(privy.signCount).toBe(before + 1)
  }, 60_000)

  it('accepts the signature ethers makes of the same typed data (an independent EIP-712 implementation)', async () => {
    const a = await tenant()
    const user = userWallet()
    const deadline = inAnHour()
    const { domain, types, message } = walletRegistrationTypedData({ tenant: a.id, custodyWalletId: user.custodyWalletId, deadline: BigInt(deadline) })
    const signature = await new EthersWallet(user.privateKey).signTypedData(domain, types, message)
    expect(signature).toBe((await viemProof(user.privateKey, a.id, user.custodyWalletId, deadline)).signature)
    const registered = await a.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId, ownership: { deadline, signature } })
    expect(registered.statusCode, registered.body).toBe(201)
  })

  it("refuses another tenant naming a user's address and Privy wallet id, with no signature or with the one the user gave its own tenant; nothing is stored or signed", async () => {
    const a = await tenant()
    const b = await tenant()
    const user = userWallet()
    const signedBefore = privy.signCount
    const bare = await b.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId })
    expect(bare.statusCode).toBe(400)
    expect(bare.json()).toMatchObject({ error: { field: 'ownership', rule: expect.stringMatching(/required with custodyWalletId/) } })
    const proofForA = await viemProof(user.privateKey, a.id, user.custodyWalletId)
    const replayed = await b.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId, ownership: proofForA })
    expect(replayed.statusCode).toBe(422)
    expect(replayed.json()).toMatchObject({ error: { field: 'ownership.signature', rule: 'must be signed by the wallet at address, for this tenant, custodyWalletId and deadline' } })
    // Signed by another wallet (B's own), for B: not the user's.
    const other = userWallet()
    const notTheOwner = await b.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId, ownership: await viemProof(other.privateKey, b.id, user.custodyWalletId) })
    expect(notTheOwner.statusCode).toBe(422)
    expect(await walletRows(user.address)).toHaveLength(0)
    expect(privy.signCount).toBe(signedBefore)
    // The user's own tenant still registers it.
    expect((await a.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId, ownership: proofForA })).statusCode).toBe(201)
  })

  it("takes over an address another tenant named first without proof and never used; one that was used stays refused", async () => {
    const a = await tenant()
    const b = await tenant()
    const user = userWallet()
    const squatted = await b.call('POST', '/v1/wallets', { address: user.address })
    expect(squatted.statusCode).toBe(201)
    const walletId = squatted.json<{ id: string }>().id
    const proven = await a.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId, ownership: await viemProof(user.privateKey, a.id, user.custodyWalletId) })
    expect(proven.statusCode, proven.body).toBe(201)
    expect(proven.json()).toMatchObject({ id: walletId })
    expect((await b.call('GET', `/v1/wallets/${walletId}`)).statusCode).toBe(404)
    expect((await a.call('GET', `/v1/wallets/${walletId}/audit?action=wallet.takenOver`)).json()).toMatchObject({ entries: [{ actor: 'api', details: { toTenant: a.id } }] })

    // B named another user's address and queued an order on it: that wallet is not handed over.
    const other = userWallet()
    const used = (await b.call('POST', '/v1/wallets', { address: other.address })).json<{ id: string }>().id
    expect((await b.call('POST', `/v1/wallets/${used}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' })).statusCode).toBe(201)
    const refused = await a.call('POST', '/v1/wallets', { address: other.address, custodyWalletId: other.custodyWalletId, ownership: await viemProof(other.privateKey, a.id, other.custodyWalletId) })
    expect([refused.statusCode, refused.json<{ error: { code: string } }>().error.code]).toEqual([409, 'WALLET.UNAVAILABLE'])
    expect((await walletRows(other.address))[0]!.custodyWalletId).toBeNull()
  })

  it("does not take over an address the other tenant halted or set a policy on: that tenant's reasons, rules and queued CancelAll stay its own", async () => {
    const a = await tenant()
    const b = await tenant()
    for (const act of [
      (id: string) => b.call('POST', `/v1/wallets/${id}/halt`, { reason: "b's private reason" }),
      (id: string) => b.call('PUT', `/v1/wallets/${id}/policy`, { rules: { maxOpenOrders: 5 } }),
    ]) {
      const user = userWallet()
      const walletId = (await b.call('POST', '/v1/wallets', { address: user.address })).json<{ id: string }>().id
      const acted = await act(walletId)
      expect(acted.statusCode, acted.body).toBe(200)
      const proven = await a.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId, ownership: await viemProof(user.privateKey, a.id, user.custodyWalletId) })
      expect([proven.statusCode, proven.body]).toEqual([409, expect.stringContaining('WALLET.UNAVAILABLE')])
      expect((await a.call('GET', `/v1/wallets/${walletId}/audit`)).statusCode).toBe(404)
      expect((await walletRows(user.address))[0]!.custodyWalletId).toBeNull()
    }
  })

  it('refuses a signature for another custody wallet id, a deadline passed or more than 24 hours ahead, and ownership without a custody wallet id', async () => {
    const a = await tenant()
    const user = userWallet()
    const cases: [object, number, string][] = [
      [{ custodyWalletId: user.custodyWalletId, ownership: await viemProof(user.privateKey, a.id, 'another-wallet-id') }, 422, 'ownership.signature'],
      [{ custodyWalletId: user.custodyWalletId, ownership: await viemProof(user.privateKey, a.id, user.custodyWalletId, Math.floor(Date.now() / 1000) - 1) }, 422, 'ownership.deadline'],
      [{ custodyWalletId: user.custodyWalletId, ownership: await viemProof(user.privateKey, a.id, user.custodyWalletId, Math.floor(Date.now() / 1000) + 25 * 3600) }, 422, 'ownership.deadline'],
      [{ ownership: await viemProof(user.privateKey, a.id, user.custodyWalletId) }, 400, 'ownership'],
      [{ custodyWalletId: user.custodyWalletId, ownership: { deadline: inAnHour(), signature: `0x${'00'.repeat(65)}` } }, 422, 'ownership.signature'],
    ]
    for (const [body, status, field] of cases) {
      const response = await a.call('POST', '/v1/wallets', { address: user.address, ...body })
      expect([response.statusCode, response.json<{ error: { field: string } }>().error.field], response.body).toEqual([status, field])
    }
    expect(await walletRows(user.address)).toHaveLength(0)
  })
})

describe('a grant that Privy fails', () => {
  it('answers 503 with Retry-After while Privy is unavailable or rate limiting, and 502 naming the code when Privy refuses', async () => {
    const a = await tenant()
    const user = userWallet()
    const registered = await a.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId, ownership: await viemProof(user.privateKey, a.id, user.custodyWalletId) })
    const walletId = registered.json<{ id: string }>().id
    const grant = () => a.call('POST', `/v1/wallets/${walletId}/sessions`, { needs: { limitOrders: true } })

    privy.fail(...Array.from({ length: 4 }, () => ({ status: 503 })))
    const down = await grant()
    expect([down.statusCode, down.json<{ error: { code: string } }>().error.code]).toEqual([503, 'PRIVY.UNAVAILABLE'])
    expect(down.headers['retry-after']).toBe('1')

    privy.fail({ status: 429, code: 'too_many_requests', retryAfterSeconds: 30 })
    const limited = await grant()
    expect([limited.statusCode, limited.json<{ error: { code: string } }>().error.code]).toEqual([503, 'PRIVY.RATE_LIMITED'])
    expect(limited.headers['retry-after']).toBe('30')

    privy.state.removeSessionSigners(user.custodyWalletId)
    const refused = await grant()
    expect([refused.statusCode, refused.json<{ error: { code: string } }>().error.code]).toEqual([502, 'PRIVY.ZERO_CORRECT_SIGNATURES'])
    expect(refused.headers['retry-after']).toBeUndefined()
  })
})
