import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll } from 'vitest'
import { apiDepsFromWorker, type ApiDeps } from '../../../src/api/ApiDeps.js'
import { buildApi } from '../../../src/api/buildApi.js'
import { createWalletSignerRegistry } from '../../../src/runtime/walletSignerRegistry.js'
import type { RunningWorker, StartWorkerOptions } from '../../../src/worker.js'
import type { SandboxOptions } from '../../../src/sandbox/startSandbox.js'
import { type GateProxy, startGateProxy } from '../../lifecycle/support/gateProxy.js'
import { createHarness, type Harness } from '../../worker/support/harness.js'

export { eventually } from '../../worker/support/harness.js'

/**
 * The worker harness (sandbox over HTTP, fresh Postgres, unique BullMQ prefix)
 * plus the API built on the running worker, sharing one wallet-signer registry. With `gate`, the
 * worker talks to the sandbox through a gate (`gate.hold`), so a test can keep a signed request on
 * the wire.
 */
export async function createApiHarness(options: { worker?: Partial<StartWorkerOptions>; listen?: boolean; sandbox?: SandboxOptions; gate?: boolean; rateLimitPerMinute?: number } = {}) {
  const h: Harness = await createHarness({ sandbox: options.sandbox })
  const gate: GateProxy | undefined = options.gate ? await startGateProxy(h.sandbox.url) : undefined
  const walletSigners = createWalletSignerRegistry()
  // The worker here holds no wallet signer: its session maintenance would otherwise grant a session
  // to every new wallet awaiting delegation on its own (its start-up run comes late under load),
  // racing the grants these tests make through the API, and a grant going live after the test's
  // replaced it (seen in CI: the test's session `rotating`). Automatic grants are tested with the
  // worker (test/lifecycle); `grantThroughApi` still retries a 409 GRANT_IN_PROGRESS.
  const worker: RunningWorker = await h.startWorker({ walletSignerFor: () => undefined, maintenanceIntervalMs: 3_600_000, ...(gate ? { operatorUrl: gate.url } : {}), ...options.worker })
  const adminToken = randomBytes(24).toString('base64url')
  const deps: ApiDeps = apiDepsFromWorker(worker, { keyring: h.keyring, walletSigners, adminToken, ...(options.rateLimitPerMinute === undefined ? {} : { rateLimitPerMinute: options.rateLimitPerMinute }) })
  const app: FastifyInstance = await buildApi(deps)
  const url = options.listen ? await app.listen({ host: '127.0.0.1', port: 0 }) : undefined
  const admin = { authorization: `Bearer ${adminToken}` }

  const api = {
    h, worker, deps, app, adminToken, admin, url, gate,
    /** A new tenant and its API key, through the admin endpoint. */
    async tenant(name = `tenant-${randomBytes(4).toString('hex')}`) {
      const response = await app.inject({ method: 'POST', url: '/admin/tenants', headers: admin, payload: { name } })
      if (response.statusCode !== 201) throw new Error(`tenant creation failed: ${response.statusCode} ${response.body}`)
      const body = response.json<{ tenant: { id: string }; apiKey: { key: string } }>()
      const headers = { authorization: `Bearer ${body.apiKey.key}` }
      return {
        id: body.tenant.id, key: body.apiKey.key, headers,
        request: (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, extra: Record<string, string> = {}) =>
          app.inject({ method, url, headers: { ...headers, ...extra }, ...(payload === undefined ? {} : { payload: payload as object }) }),
      }
    },
    async close() {
      await app.close()
      await h.close()
      await gate?.close()
    },
  }
  return api
}
export type ApiHarness = Awaited<ReturnType<typeof createApiHarness>>

/** This test file's harness and one tenant: made before its tests (`beforeAll`), closed after them. Read them inside tests. */
export function apiHarnessForFile(options: Parameters<typeof createApiHarness>[0] = {}): { api: ApiHarness; tenant: Tenant } {
  const file = {} as { api: ApiHarness; tenant: Tenant }
  beforeAll(async () => {
    file.api = await createApiHarness(options)
    file.tenant = await file.api.tenant()
  })
  afterAll(async () => { await file.api?.close() })
  return file
}
export type Tenant = Awaited<ReturnType<ApiHarness['tenant']>>

/** A funded development wallet of `tenant` with an active session, made through the API. */
export async function tradingWallet(api: ApiHarness, tenant: Tenant, funds: Record<string, string> = { USD: '1000000', ETH: '100', BTC: '10' }) {
  const created = await tenant.request('POST', '/v1/wallets', { generate: true })
  if (created.statusCode !== 201) throw new Error(`wallet creation failed: ${created.statusCode} ${created.body}`)
  const wallet = created.json<{ id: string; address: string }>()
  for (const [asset, amount] of Object.entries(funds)) api.h.sandbox.fund(wallet.address, asset, amount)
  const granted = await grantThroughApi(tenant, wallet.id, { lifetimeSeconds: 24 * 3600, needs: { limitOrders: true, modifications: true, schedules: true, killSwitch: true } })
  if (granted.statusCode !== 201) throw new Error(`session grant failed: ${granted.statusCode} ${granted.body}`)
  return { wallet, session: granted.json<{ session: { id: string } }>().session }
}

/**
 * POST /v1/wallets/:id/sessions as a client should: a 409 GRANT_IN_PROGRESS (the worker's session
 * maintenance is granting the new wallet a session at that moment) is retried after its Retry-After.
 */
export async function grantThroughApi(tenant: Tenant, walletId: string, body: Record<string, unknown>) {
  for (let attempt = 1; ; attempt++) {
    const response = await tenant.request('POST', `/v1/wallets/${walletId}/sessions`, body)
    const inProgress = response.statusCode === 409 && response.json<{ error?: { code?: string } }>().error?.code === 'SESSION.GRANT_IN_PROGRESS'
    if (!inProgress || attempt >= 30) return response
    await new Promise((resolve) => setTimeout(resolve, Number(response.headers['retry-after'] ?? 1) * 1000))
  }
}
