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
import { auditLog, intents, orders, outbox, requests, schedules, sessions, wallets } from '../../src/store/schema/index.js'
import type { RunningWorker } from '../../src/worker.js'
import { type Harness, createHarness, eventually } from '../worker/support/harness.js'
import { operatorOrders } from '../worker/support/operator.js'
import { withFirstWriteFailing } from '../support/firstWriteFailing.js'
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
let controlQueue: RunningWorker['controlQueue']

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
  controlQueue = worker.controlQueue
  adminToken = randomBytes(24).toString('base64url')
  app = await buildApi(apiDepsFromWorker(worker, { keyring: h.keyring, walletSigners, adminToken }), { logger: false })
}, 120_000)
afterAll(async () => { await app?.close(); await h?.close(); await privy?.close() })

type Tenant = Awaited<ReturnType<typeof tenant>>

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

  it('stores a new wallet with its custody wallet id in one statement: no wallet is left registered without the signer it named', async () => {
    const a = await tenant()
    const user = userWallet()
    // A write of the custody id after the insert fails, as a dropped connection there would leave it.
    await withFirstWriteFailing(h.db, { name: 'fail_custody', table: 'wallets', on: 'update', when: 'new.custody_wallet_id is not null', message: 'wallet update failed (test)' }, async () => {
      const registered = await a.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId, ownership: await viemProof(user.privateKey, a.id, user.custodyWalletId) })
      expect(registered.statusCode, registered.body).toBe(201)
    })
    expect((await walletRows(user.address)).map((w) => [w.tenantId, w.custodyWalletId])).toEqual([[a.id, user.custodyWalletId]])
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

  it("takes over an address another tenant named first without proof and never used: the owner's tenant gets a wallet of its own, and the other tenant's row is retired", async () => {
    const a = await tenant()
    const b = await tenant()
    const user = userWallet()
    const squatted = await b.call('POST', '/v1/wallets', { address: user.address })
    expect(squatted.statusCode).toBe(201)
    const walletId = squatted.json<{ id: string }>().id
    const proven = await a.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId, ownership: await viemProof(user.privateKey, a.id, user.custodyWalletId) })
    expect(proven.statusCode, proven.body).toBe(201)
    const ownId = proven.json<{ id: string }>().id
    expect(ownId).not.toBe(walletId)
    expect((await b.call('GET', `/v1/wallets/${walletId}`)).statusCode).toBe(404)
    expect((await a.call('GET', `/v1/wallets/${walletId}`)).statusCode).toBe(404)
    // Listed for A only, as A's; no longer for B.
    expect((await a.call('GET', '/v1/wallets')).json<{ wallets: { id: string }[] }>().wallets.map((w) => w.id)).toEqual([ownId])
    expect((await b.call('GET', '/v1/wallets')).json()).toEqual({ wallets: [] })
    expect((await b.call('GET', '/v1/status')).json<{ wallets: unknown[] }>().wallets).toEqual([])
    expect((await a.call('GET', `/v1/wallets/${ownId}/audit?action=wallet.takenOver`)).json()).toMatchObject({ entries: [{ actor: 'api', details: { toTenant: a.id } }] })
    // Registering it again is idempotent for the owner's tenant, and still refused to the other one.
    expect((await a.call('POST', '/v1/wallets', { address: user.address })).json()).toMatchObject({ id: ownId })
    expect((await b.call('POST', '/v1/wallets', { address: user.address })).statusCode).toBe(409)
  })

  it("answers the owner's concurrent proven registrations of a squatted address alike: one creates its wallet (201), the others find it (200)", async () => {
    const a = await tenant()
    const b = await tenant()
    const user = userWallet()
    expect((await b.call('POST', '/v1/wallets', { address: user.address })).statusCode).toBe(201)
    const body = { address: user.address, custodyWalletId: user.custodyWalletId, ownership: await viemProof(user.privateKey, a.id, user.custodyWalletId) }
    const answers = await Promise.all(Array.from({ length: 4 }, () => a.call('POST', '/v1/wallets', body)))
    expect(answers.map((r) => r.statusCode).sort(), answers.map((r) => r.body).join('\n')).toEqual([200, 200, 200, 201])
    expect(new Set(answers.map((r) => r.json<{ id: string }>().id)).size).toBe(1)
    expect((await walletRows(user.address)).filter((w) => w.retiredAt === null)).toMatchObject([{ tenantId: a.id, custodyWalletId: user.custodyWalletId }])
  })

  it('keeps refusing an address whose registration by another tenant has (or had) a session: the wallet itself consented to it', async () => {
    const a = await tenant()
    const b = await tenant()
    const user = userWallet()
    const walletId = (await b.call('POST', '/v1/wallets', { address: user.address })).json<{ id: string }>().id
    await h.db.insert(sessions).values({
      walletId, status: 'revoked', publicKey: `0x02${randomBytes(32).toString('hex')}`, sealedPrivateKey: 'sealed', masterKeyId: 'k', aclScope: ['Order'],
      expiry: new Date(1000), expiryUnix: 1, delegationNonce: '1', walletSigner: 'local',
    })
    const refused = await a.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId, ownership: await viemProof(user.privateKey, a.id, user.custodyWalletId) })
    expect([refused.statusCode, refused.json<{ error: { code: string } }>().error.code]).toEqual([409, 'WALLET.UNAVAILABLE'])
    const rows = await walletRows(user.address)
    expect(rows.map((row) => [row.id, row.custodyWalletId, row.retiredAt])).toEqual([[walletId, null, null]])
    expect((await b.call('GET', `/v1/wallets/${walletId}`)).statusCode).toBe(200)
  })

  const spec = { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 * * * *', timeZone: 'UTC', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 }
  // Each with the status B's next placement is answered: refused on the halted wallet, taken everywhere else.
  const traces: [string, (call: Tenant['call'], walletId: string) => Promise<{ statusCode: number; body: string }>, 201 | 422][] = [
    ['a held order', (call, id) => call('POST', `/v1/wallets/${id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' }), 201],
    ['a halt (and its queued CancelAll)', (call, id) => call('POST', `/v1/wallets/${id}/halt`, { reason: "b's private reason" }), 422],
    ['a policy', (call, id) => call('PUT', `/v1/wallets/${id}/policy`, { rules: { maxOpenOrders: 5 } }), 201],
    ['a schedule', (call, id) => call('POST', `/v1/wallets/${id}/schedules`, spec), 201],
    ['a queued CancelAll', (call, id) => call('POST', `/v1/wallets/${id}/cancel-all`, { market: 'ETH-USD' }), 201],
  ]
  it.each(traces)("takes over an address another tenant named first without proof and used (%s) but never had a session for: its work is ended, never sent, and none of it is the owner's", async (_, act, placing) => {
    const a = await tenant()
    const b = await tenant()
    const user = userWallet()
    const walletId = (await b.call('POST', '/v1/wallets', { address: user.address })).json<{ id: string }>().id
    const acted = await act(b.call, walletId)
    expect(acted.statusCode, acted.body).toBeLessThan(300)
    const order = (await b.call('POST', `/v1/wallets/${walletId}/orders`, { market: 'ETH-USD', side: 'sell', price: '2500', size: '0.1' }))
    expect(order.statusCode, order.body).toBe(placing)
    const orderId = placing === 201 ? order.json<{ id: string }>().id : undefined

    const proven = await a.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId, ownership: await viemProof(user.privateKey, a.id, user.custodyWalletId) })
    expect(proven.statusCode, proven.body).toBe(201)
    const own = proven.json<{ id: string; status: string; haltedReason: string | null }>()
    expect(own.id).not.toBe(walletId)
    expect([own.status, own.haltedReason]).toEqual(['awaiting_delegation', null])

    // Nothing of B's is A's: no order, policy, schedule, nor any of B's audit entries.
    expect((await a.call('GET', '/v1/orders?state=all')).json()).toEqual({ orders: [] })
    expect((await a.call('GET', `/v1/wallets/${own.id}/policy`)).statusCode).toBe(404)
    expect((await a.call('GET', '/v1/schedules')).json()).toEqual({ schedules: [] })
    const entries = (await a.call('GET', `/v1/wallets/${own.id}/audit`)).json<{ entries: { action: string; details: object }[] }>().entries
    expect(entries.map((entry) => entry.action)).toEqual(['wallet.takenOver'])
    expect(JSON.stringify(entries)).not.toContain(b.id)
    expect((await a.call('GET', `/v1/wallets/${walletId}/audit`)).statusCode).toBe(404)

    // B's writes on the retired wallet are refused as on an unknown one.
    for (const write of [
      () => b.call('POST', `/v1/wallets/${walletId}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' }),
      () => b.call('POST', `/v1/wallets/${walletId}/halt`, { reason: 'again' }),
      () => b.call('POST', `/v1/wallets/${walletId}/resume`, {}),
      () => b.call('PUT', `/v1/wallets/${walletId}/policy`, { rules: { maxOpenOrders: 1 } }),
      () => b.call('POST', `/v1/wallets/${walletId}/schedules`, spec),
      () => b.call('POST', `/v1/wallets/${walletId}/cancel-all`, { market: 'ETH-USD' }),
      () => b.call('POST', `/v1/wallets/${walletId}/sessions`, { needs: { limitOrders: true } }),
    ]) {
      const refused = await write()
      expect([refused.statusCode, refused.body]).toEqual([404, expect.stringContaining('walletId')])
    }
    expect((await b.call('GET', `/v1/wallets/${walletId}`)).statusCode).toBe(404)
    // B's order (none on the halted wallet) stays B's to read, ended locally, naming the takeover.
    if (orderId) expect((await b.call('GET', `/v1/orders/${orderId}`)).json()).toMatchObject({ state: 'cancelled', cancelReason: 'walletTakenOver' })

    // B's unsent work is ended in the same transaction: nothing left for the relay, the sweeper or the scheduler.
    expect((await h.db.select().from(outbox).where(eq(outbox.walletId, walletId))).filter((row) => row.status !== 'done')).toEqual([])
    expect((await h.db.select().from(orders).where(eq(orders.walletId, walletId))).map((row) => row.state).filter((state) => state !== 'cancelled')).toEqual([])
    expect((await h.db.select().from(intents).where(eq(intents.walletId, walletId))).map((row) => row.status).filter((status) => status !== 'cancelled')).toEqual([])
    expect((await h.db.select().from(schedules).where(eq(schedules.walletId, walletId))).map((row) => row.status).filter((status) => status !== 'deleted')).toEqual([])
    expect((await h.db.select({ action: auditLog.action }).from(auditLog).where(eq(auditLog.walletId, walletId))).map((row) => row.action)).toContain('wallet.retired')

    // The owner's tenant trades with its own session: none of B's work goes out with it.
    const granted = await a.call('POST', `/v1/wallets/${own.id}/sessions`, { needs: { limitOrders: true } })
    expect(granted.statusCode, granted.body).toBe(201)
    const placed = await a.call('POST', `/v1/wallets/${own.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1400', size: '0.1' })
    expect(placed.statusCode, placed.body).toBe(201)
    await eventually(async () => operatorOrders(h.sandbox, user.address).length === 1)
    expect(operatorOrders(h.sandbox, user.address).map((o) => o.clientOrderId)).toEqual([placed.json<{ clientOrderId: string }>().clientOrderId])
    expect(await h.db.select().from(requests).where(eq(requests.walletId, walletId))).toEqual([])
    expect((await h.db.select().from(outbox).where(eq(outbox.walletId, walletId))).filter((row) => row.status !== 'done')).toEqual([])
  }, 60_000)

  it('removes the job scheduler of a schedule the takeover deletes before answering: it does not fire for the retired wallet', async () => {
    const a = await tenant()
    const b = await tenant()
    const user = userWallet()
    const walletId = (await b.call('POST', '/v1/wallets', { address: user.address })).json<{ id: string }>().id
    const created = await b.call('POST', `/v1/wallets/${walletId}/schedules`, spec)
    expect(created.statusCode, created.body).toBe(201)
    const scheduleId = created.json<{ id: string }>().id
    expect(await controlQueue.getJobScheduler(scheduleId)).toBeDefined()
    const proven = await a.call('POST', '/v1/wallets', { address: user.address, custodyWalletId: user.custodyWalletId, ownership: await viemProof(user.privateKey, a.id, user.custodyWalletId) })
    expect(proven.statusCode, proven.body).toBe(201)
    expect(await controlQueue.getJobScheduler(scheduleId)).toBeUndefined()
    expect((await h.db.select().from(schedules).where(eq(schedules.id, scheduleId)))[0]).toMatchObject({ status: 'deleted' })
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
