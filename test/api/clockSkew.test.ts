import { describe, expect, it } from 'vitest'
import { apiHarnessForFile, grantThroughApi } from './support/apiHarness.js'

/* The API of a process whose clock runs an hour behind the operator's: session expiry is the operator's to enforce. */

const file = apiHarnessForFile({ worker: { now: () => Date.now() - 3_600_000 } })

describe('an API an hour behind the operator', () => {
  it('grants a session whose lifetime counts from the operator\'s clock, and shows and counts its expiry on that clock', async () => {
    const { api, tenant } = file
    const wallet = (await tenant.request('POST', '/v1/wallets', { generate: true })).json<{ id: string }>()
    const lifetime = 23.5 * 3600
    const granted = await grantThroughApi(tenant, wallet.id, { lifetimeSeconds: lifetime, needs: { limitOrders: true } })
    expect(granted.statusCode, granted.body).toBe(201)
    const { session } = granted.json<{ session: { expiry: string; expiresInSeconds: number } }>()
    const operatorSeconds = api.h.sandbox.now() / 1000
    // 23.5 h at the operator, not 22.5 h.
    expect(Date.parse(session.expiry) / 1000).toBeGreaterThan(operatorSeconds + lifetime - 10)
    expect(session.expiresInSeconds).toBeGreaterThan(lifetime - 10)
    expect(session.expiresInSeconds).toBeLessThanOrEqual(lifetime)
    // Within the next 24 h on the operator's clock (24.5 h away on this process's).
    const metrics = (await api.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toMatch(/^deputy_sessions_expiring\{within="24h"\} 1$/m)
  })
})
