/**
 * The operator's EIP-712 domain changes while an API process (`deputy api`: `openApiDeps`) runs, over
 * the sandbox's test-only `setDomain`. The API reads the domain once at start-up and has wallets sign
 * Delegations, and sessions or wallets sign Revocations, over it: after the change nothing it signs
 * is valid at the operator, which must read as the domain having changed (503 OPERATOR.DOMAIN_CHANGED),
 * never as a failed pre-live check, a compromised key, or a revocation that happened.
 * Each test starts API processes of its own (a fresh view of the domain); DEV_WALLET_KEYS lets each
 * sign for the same wallets.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildApi } from '../../src/api/buildApi.js'
import { openApiDeps } from '../../src/api/openApiDeps.js'
import { loadConfig } from '../../src/config.js'
import type { OperatorDomain } from '../../src/core/eip712/types.js'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { deleteQueueKeys } from '../../src/queue/deleteQueueKeys.js'
import { type Sandbox, startSandbox } from '../../src/sandbox/startSandbox.js'
import type { SandboxOptions } from '../../src/sandbox/config.js'
import { capturedLog } from '../support/capturedLog.js'
import { type TestDatabase, createTestDatabase } from '../support/database.js'
import { REDIS_URL, eventually } from '../worker/support/harness.js'
import { rows } from '../worker/support/rows.js'

let sandbox: Sandbox
let testDb: TestDatabase
let original: OperatorDomain
let tenantHeaders: Record<string, string>
const prefix = `deputy-test-${randomUUID().slice(0, 8)}`
const masterKey = generateMasterKey('test')
const adminToken = randomBytes(24).toString('base64url')
const keys = Array.from({ length: 6 }, () => generatePrivateKey())
const opened: Api[] = []
const NEW_CONTRACT = '0x00000000000000000000000000000000000000aa'

type Api = {
  deps: Awaited<ReturnType<typeof openApiDeps>>
  app: FastifyInstance
  request(method: 'GET' | 'POST', url: string, payload?: object): Promise<LightMyRequestResponse>
  close(): Promise<void>
}
type ErrorBody = { error: { code: string; message: string; field?: string; rule?: string } }

/** An API process of its own: its own pool, queues, operator client and view of the operator's domain. */
async function openApi(options: { probe?: boolean } = {}): Promise<Api> {
  const config = loadConfig({
    DATABASE_URL: testDb.url, REDIS_URL, QUEUE_PREFIX: prefix, OPERATOR_URL: sandbox.url, DEPUTY_MASTER_KEY: masterKey, ADMIN_TOKEN: adminToken,
    DEV_WALLET_KEYS: keys.join(','), SESSION_LIVE_PROBE: options.probe ? 'true' : 'false', LOG_LEVEL: 'silent',
  })
  const deps = await openApiDeps(config, capturedLog('fatal').log)
  const app: FastifyInstance = await buildApi(deps)
  const api: Api = {
    deps, app,
    request: (method: 'GET' | 'POST', url: string, payload?: object) => app.inject({ method, url, headers: tenantHeaders, ...(payload ? { payload } : {}) }),
    async close() {
      await app.close()
      await deps.close()
    },
  }
  opened.push(api)
  return api
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, quiet: true } as SandboxOptions)
  original = sandbox.domain
  testDb = await createTestDatabase()
  const api = await openApi()
  const created = await api.app.inject({ method: 'POST', url: '/admin/tenants', headers: { authorization: `Bearer ${adminToken}` }, payload: { name: 'domain' } })
  tenantHeaders = { authorization: `Bearer ${created.json<{ apiKey: { key: string } }>().apiKey.key}` }
}, 60_000)
afterEach(async () => {
  sandbox.setDomain(original)
  for (const api of opened.splice(0)) await api.close()
})
afterAll(async () => {
  await deleteQueueKeys(REDIS_URL, prefix)
  await sandbox?.close()
  await testDb?.drop()
})

const db = () => rows(opened[0]!.deps.runtime.db)
let nextKey = 0

/** A funded wallet of the tenant (one of DEV_WALLET_KEYS), registered through `api`. */
async function wallet(api: Api): Promise<{ id: string; address: string }> {
  const address = privateKeyToAddress(keys[nextKey++]!).toLowerCase()
  const registered = await api.request('POST', '/v1/wallets', { address })
  expect(registered.statusCode, registered.body).toBe(201)
  sandbox.fund(address, 'USD', '100000')
  return registered.json<{ id: string; address: string }>()
}

async function grant(api: Api, walletId: string) {
  return api.request('POST', `/v1/wallets/${walletId}/sessions`, { lifetimeSeconds: 24 * 3600 })
}

async function granted(api: Api, walletId: string): Promise<string> {
  const response = await grant(api, walletId)
  expect(response.statusCode, response.body).toBe(201)
  return response.json<{ session: { id: string } }>().session.id
}

function changeDomain() {
  sandbox.setDomain({ chainId: 8453, verifyingContract: NEW_CONTRACT })
}

/** The answer to a call made while the domain differs: 503, both domains named, and what to do. */
function expectDomainChanged(response: { statusCode: number; body: string; json<T>(): T }) {
  expect(response.statusCode, response.body).toBe(503)
  const { error } = response.json<ErrorBody>()
  expect(error.code).toBe('OPERATOR.DOMAIN_CHANGED')
  expect(error.message).toMatch(new RegExp(`chainId ${original.chainId} \\(${original.verifyingContract}\\).* to chainId 8453 \\(${NEW_CONTRACT}\\)`, 'i'))
  expect(error.rule).toMatch(/restart Deputy to adopt the operator's new domain/)
}

describe('the operator\'s domain changes while the API runs', () => {
  it('a grant answers 503 OPERATOR.DOMAIN_CHANGED before the wallet is asked to sign, with or without a live probe, though nothing was refused yet; so do rotations; /readyz reports it, stays ready, and sees the domain back', async () => {
    const api = await openApi({ probe: true })
    const { id } = await wallet(api)
    const plain = await openApi()
    const other = await wallet(plain)
    changeDomain()

    // Nothing this process signed was refused yet: the grant reads the domain before the wallet signs.
    expectDomainChanged(await grant(plain, other.id))
    expect(await db().sessionsOf(other.id)).toHaveLength(0)
    expectDomainChanged(await grant(api, id))
    expectDomainChanged(await grant(api, id))
    expectDomainChanged(await api.request('POST', `/v1/wallets/${id}/sessions/rotate`, {}))
    expect(await db().sessionsOf(id)).toHaveLength(0)

    const ready = await api.request('GET', '/readyz')
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toMatchObject({
      status: 'ready',
      checks: { postgres: { ok: true }, redis: { ok: true }, operator: { ok: true }, operatorDomain: { ok: false, detail: expect.stringMatching(/chainId 31337 .*to chainId 8453 .*restart Deputy/) } },
    })

    sandbox.setDomain(original)
    // The readiness check reads /v1/info anyway: it sees the domain back, and grants go on at once.
    expect((await api.request('GET', '/readyz')).json()).toMatchObject({ checks: { operatorDomain: { ok: true, detail: 'ok' } } })
    await granted(api, id)
  })

  it('a revocation refused by the operator answers 503 OPERATOR.DOMAIN_CHANGED and is not recorded as done, whether the operator knew the delegation (SignerMismatch) or not (SessionUnauthorized)', async () => {
    // Known to the operator: its grant's live probe was accepted. Unknown: never used there. Both
    // processes start before the change (one started after it would sign over the new domain).
    const probing = await openApi({ probe: true })
    const plain = await openApi()
    const known = await granted(probing, (await wallet(probing)).id)
    const unknown = await granted(plain, (await wallet(plain)).id)
    const knownHash = (await db().session(known)).delegationHash!
    expect(sandbox.state.delegations.byDelegationHash(knownHash)).toBeDefined()
    expect(sandbox.state.delegations.byDelegationHash((await db().session(unknown)).delegationHash!)).toBeUndefined()
    changeDomain()

    // A process that has seen nothing yet meets the refusal (SessionUnauthorized), then knows.
    expectDomainChanged(await plain.request('POST', `/v1/sessions/${unknown}/revoke`, {}))
    expectDomainChanged(await plain.request('POST', `/v1/sessions/${known}/revoke`, {}))
    for (const id of [known, unknown]) expect(await db().session(id)).toMatchObject({ status: 'active', revokedAt: null })
    expect(sandbox.state.delegations.byDelegationHash(knownHash)!.revoked).toBe(false)

    // The same for one that meets SignerMismatch first.
    expectDomainChanged(await probing.request('POST', `/v1/sessions/${known}/revoke`, {}))
    expect(await db().session(known)).toMatchObject({ status: 'active', revokedAt: null })

    sandbox.setDomain(original)
    await probing.request('GET', '/readyz')
    const revoked = await probing.request('POST', `/v1/sessions/${known}/revoke`, {})
    expect(revoked.statusCode, revoked.body).toBe(200)
    expect(sandbox.state.delegations.byDelegationHash(knownHash)!.revoked).toBe(true)
  })

  it('a compromise halts the wallet and ends its sessions here, and answers 502 SESSION.REVOKE_FAILED naming the domain change (no session quarantined, no KEY_INTEGRITY); run again once the domain is the operator\'s, it revokes them', async () => {
    // Known to the operator (its grant's live probe was accepted).
    const probing = await openApi({ probe: true })
    const session = await granted(probing, (await wallet(probing)).id)
    const walletId = (await db().session(session)).walletId
    const hash = (await db().session(session)).delegationHash!
    const api = await openApi()
    changeDomain()

    const failed = await api.request('POST', `/v1/wallets/${walletId}/compromise`, { reason: 'key seen in a log' })
    expect(failed.statusCode, failed.body).toBe(502)
    const { error } = failed.json<ErrorBody>()
    expect(error.code).toBe('SESSION.REVOKE_FAILED')
    expect(error.message).toMatch(/1 session\(s\) could not be revoked at the operator: the operator's EIP-712 domain changed from chainId 31337 .* to chainId 8453/)
    expect(error.message).toMatch(/restart Deputy to adopt the operator's new domain, then run the compromise again/)
    expect(error).toMatchObject({ field: 'operatorDomain', rule: expect.stringMatching(/^restart Deputy to adopt the operator's new domain/) })
    expect((await db().wallet(walletId)).status).toBe('halted')
    // Ended here (it never signs again), not at the operator: revoked_at null, and not quarantined.
    expect(await db().session(session)).toMatchObject({ status: 'revoked', revokedAt: null })
    expect(sandbox.state.delegations.byDelegationHash(hash)!.revoked).toBe(false)
    await eventually(async () => (await db().audit(walletId, 'alert.OPERATOR_DOMAIN_CHANGED')).length === 1)
    const [compromiseAlert] = await eventually(async () => {
      const found = await db().audit(walletId, 'alert.SESSION_COMPROMISE')
      return found.length === 1 && found
    })
    expect(JSON.stringify(compromiseAlert!.details)).toMatch(/NOT revoked at the operator.*EIP-712 domain changed/)
    // Raised by the API process, and audited as its.
    expect(compromiseAlert!.actor).toBe('api')
    expect((await db().audit(walletId, 'alert.OPERATOR_DOMAIN_CHANGED')).map((a) => a.actor)).toEqual(['api'])
    expect(await db().audit(walletId, 'alert.KEY_INTEGRITY')).toEqual([])

    sandbox.setDomain(original)
    await api.request('GET', '/readyz')
    const retried = await api.request('POST', `/v1/wallets/${walletId}/compromise`, { reason: 'key seen in a log' })
    expect(retried.statusCode, retried.body).toBe(200)
    expect(retried.json<{ revokedSessions: number }>().revokedSessions).toBe(1)
    expect(sandbox.state.delegations.byDelegationHash(hash)!.revoked).toBe(true)
  })
})
