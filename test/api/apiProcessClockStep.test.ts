/**
 * `deputy api` in a process of its own (`openApiDeps`) measures the operator's clock at start-up.
 * Its host's clock then steps (an NTP correction, a VM resumed): whatever it signs with a deadline
 * on the old offset is refused (DeadlineExpired when the clock stepped back, InvalidRequest when it
 * stepped forward past maxDeadlineMs). As in the worker, the refusal measures the clock again and
 * the request is signed again once: a compromise's CancelAll and revocations, a session revoked
 * through the API and a grant's live probe go through instead of failing until the process restarts.
 *
 * The operator's clock is stepped here instead of this host's: the offset moves the same way.
 */
import type { FastifyInstance } from 'fastify'
import { generatePrivateKey } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi } from '../../src/api/buildApi.js'
import { openApiDeps } from '../../src/api/openApiDeps.js'
import { loadConfig } from '../../src/config.js'
import type { SandboxOptions } from '../../src/sandbox/startSandbox.js'
import { LocalWalletSigner } from '../../src/signers/LocalWalletSigner.js'
import { capturedLog } from '../support/capturedLog.js'
import { operatorOrders } from '../worker/support/operator.js'
import { rows } from '../worker/support/rows.js'
import { REDIS_URL } from '../worker/support/harness.js'
import { apiHarnessForFile, eventually, tradingWallet } from './support/apiHarness.js'

let operatorShiftMs = 0
const file = apiHarnessForFile({ sandbox: { now: () => Date.now() + operatorShiftMs } as SandboxOptions })
/** Keys of wallets the API process holds (DEV_WALLET_KEYS), one for each direction's grant. */
const walletKeys = { back: generatePrivateKey(), forward: generatePrivateKey() }
let standalone: { app: FastifyInstance; deps: Awaited<ReturnType<typeof openApiDeps>> }

beforeAll(async () => {
  const { h } = file.api
  const config = loadConfig({
    DATABASE_URL: h.databaseUrl, REDIS_URL, QUEUE_PREFIX: h.queuePrefix, OPERATOR_URL: h.sandbox.url,
    DEPUTY_MASTER_KEY: h.masterKey, LOG_LEVEL: 'silent', SESSION_LIVE_PROBE: 'true', DEV_WALLET_KEYS: `${walletKeys.back},${walletKeys.forward}`,
  })
  const deps = await openApiDeps(config, capturedLog().log)
  standalone = { deps, app: await buildApi(deps) }
}, 30_000)
afterAll(async () => {
  await standalone?.app.close()
  await standalone?.deps.close()
})

/** A request to the API process, as the file's tenant. */
function inject(method: 'POST' | 'GET', url: string, payload?: object) {
  return standalone.app.inject({ method, url, headers: file.tenant.headers, ...(payload ? { payload } : {}) })
}

/** Runs `act` with this host's clock stepped `direction` by 90 s against the operator's, then steps it back. */
async function afterClockStep<T>(direction: 'back' | 'forward', act: () => Promise<T>): Promise<T> {
  const shift = direction === 'back' ? 90_000 : -90_000
  operatorShiftMs += shift
  try {
    return await act()
  } finally {
    operatorShiftMs -= shift
    await standalone.deps.runtime.resyncOperatorClock?.()
    await file.api.worker.deps.resyncOperatorClock?.()
  }
}

describe.each(['back', 'forward'] as const)('the API process after its clock stepped %s', (direction) => {
  it('completes a compromise: its CancelAll and revocation are signed again on the clock measured anew', async () => {
    const { api, tenant } = file
    const { wallet, session } = await tradingWallet(api, tenant)
    const { address } = (await tenant.request('GET', `/v1/wallets/${wallet.id}`)).json<{ address: string }>()
    const order = (await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' })).json<{ id: string }>()
    await eventually(async () => (await tenant.request('GET', `/v1/orders/${order.id}`)).json<{ state: string }>().state === 'open')

    const response = await afterClockStep(direction, () => inject('POST', `/v1/wallets/${wallet.id}/compromise`, { reason: 'key leaked' }))
    expect(response.statusCode, response.body).toBe(200)
    expect(response.json()).toMatchObject({ revokedSessions: 1 })
    const delegationHash = (await tenant.request('GET', `/v1/sessions/${session.id}`)).json<{ delegationHash: string }>().delegationHash
    expect(api.h.sandbox.state.delegations.byDelegationHash(delegationHash)?.revoked).toBe(true)
    expect(operatorOrders(api.h.sandbox, address).filter((o) => o.status === 'open')).toEqual([])
    // The CancelAll went out from the API process, at once, not left for the worker to send later.
    const cancelAlls = (await rows(api.h.db).requestsOfWallet(wallet.id)).filter((r) => r.family === 'CancelAll')
    expect(cancelAlls.map((r) => r.status)).toContain('accepted')
  }, 30_000)

  it('revokes a session at the operator', async () => {
    const { api, tenant } = file
    const { session } = await tradingWallet(api, tenant)
    const response = await afterClockStep(direction, () => inject('POST', `/v1/sessions/${session.id}/revoke`, {}))
    expect(response.statusCode, response.body).toBe(200)
    expect(response.json()).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) })
    expect(api.h.sandbox.state.delegations.byDelegationHash(response.json<{ delegationHash: string }>().delegationHash)?.revoked).toBe(true)
  }, 30_000)

  it("grants a session whose live probe's request is signed again on the clock measured anew", async () => {
    const { api, tenant } = file
    // A wallet whose key the API process holds, funded for the probe's one-tick buy.
    const signer = LocalWalletSigner.fromPrivateKey(walletKeys[direction])
    api.h.sandbox.fund(signer.address, 'USD', '10')
    const registered = await tenant.request('POST', '/v1/wallets', { address: signer.address })
    expect(registered.statusCode, registered.body).toBe(201)
    const walletId = registered.json<{ id: string }>().id
    const granted = await afterClockStep(direction, () => inject('POST', `/v1/wallets/${walletId}/sessions`, { lifetimeSeconds: 24 * 3600, families: ['Order', 'CancelOrder'] }))
    expect(granted.statusCode, granted.body).toBe(201)
    expect(granted.json()).toMatchObject({ session: { status: 'active' } })
  }, 30_000)
})
