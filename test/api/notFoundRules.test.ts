import { describe, expect, it } from 'vitest'
import { apiHarnessForFile } from './support/apiHarness.js'

/*
 * A 404 names the field and a rule a person can act on. The rule was one template for every
 * resource, "must name a <resource> of this tenant", which read "must name a order", "must name a
 * tenant of this tenant" (admin) and "must name a route POST /v1/x of this tenant".
 */
const file = apiHarnessForFile()
const nobody = '00000000-0000-0000-0000-000000000000'

describe('the rule of a 404', () => {
  it('tenant routes: the resource with its article, of this tenant', async () => {
    const { tenant } = file
    const order = await tenant.request('POST', `/v1/orders/${nobody}/cancel`, {})
    expect(order.statusCode).toBe(404)
    expect(order.json()).toMatchObject({ error: { code: 'API.NOT_FOUND', field: 'orderId', rule: 'must name an order of this tenant' } })
    const wallet = await tenant.request('POST', `/v1/wallets/${nobody}/halt`, { reason: 'test' })
    expect(wallet.json()).toMatchObject({ error: { code: 'API.NOT_FOUND', field: 'walletId', rule: 'must name a wallet of this tenant' } })
  })

  it("a wallet's policy never set: says so, rather than asking for a policy of this tenant", async () => {
    const { tenant } = file
    const { id } = (await tenant.request('POST', '/v1/wallets', { generate: true })).json<{ id: string }>()
    const response = await tenant.request('GET', `/v1/wallets/${id}/policy`)
    expect(response.statusCode).toBe(404)
    expect(response.json()).toMatchObject({ error: { code: 'API.NOT_FOUND', field: 'walletId', rule: 'must name a wallet whose policy has been set (PUT /v1/wallets/:walletId/policy)' } })
  })

  it('admin routes: no tenant of a tenant', async () => {
    const { api } = file
    const tenant = await api.app.inject({ method: 'POST', url: `/admin/tenants/${nobody}/keys`, headers: api.admin, payload: {} })
    expect(tenant.statusCode).toBe(404)
    expect(tenant.json()).toMatchObject({ error: { code: 'API.NOT_FOUND', field: 'tenantId', rule: 'must name a tenant' } })
    const key = await api.app.inject({ method: 'POST', url: `/admin/keys/${nobody}/revoke`, headers: api.admin, payload: {} })
    expect(key.statusCode).toBe(404)
    expect(key.json()).toMatchObject({ error: { code: 'API.NOT_FOUND', field: 'keyId', rule: 'must name an API key that is not revoked' } })
  })

  it('an unknown route: names the url and where the routes are listed', async () => {
    const { tenant } = file
    const response = await tenant.request('POST', '/v1/nothing', {})
    expect(response.statusCode).toBe(404)
    expect(response.json()).toMatchObject({ error: { code: 'API.NOT_FOUND', field: 'url', rule: 'must name one of the API\'s routes (listed in /openapi.json)' } })
  })
})
