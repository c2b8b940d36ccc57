import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { sessions } from '../../src/store/schema/index.js'
import { readWith } from '../lifecycle/support/lifecycle.js'
import { apiHarnessForFile, tradingWallet } from './support/apiHarness.js'

/*
 * Input Postgres cannot store is refused 400 naming its field, never a 500 after part of the work.
 * JSON allows a lone UTF-16 surrogate ("\ud800"); Postgres cannot store one (jsonb refuses the
 * escape, text gets it as U+FFFD). Such text must be refused 400 naming its field, like U+0000.
 */
const file = apiHarnessForFile()
const order = { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' }
const raw = (body: object, surrogateField: string) => JSON.stringify(body).replace(`"${surrogateField}":"X"`, `"${surrogateField}":"a\\ud800b"`)

describe('lone UTF-16 surrogates in text', () => {
  it('clientRef: 400 naming the field, not a 500', async () => {
    const { api, tenant } = file
    const { wallet } = await tradingWallet(api, tenant)
    const response = await api.app.inject({
      method: 'POST', url: `/v1/wallets/${wallet.id}/orders`, headers: { ...tenant.headers, 'content-type': 'application/json' },
      payload: raw({ ...order, clientRef: 'X' }, 'clientRef'),
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json()).toMatchObject({ error: { field: 'clientRef' } })
  })

  it('halt reason: 400 naming the field, not a 500', async () => {
    const { api, tenant } = file
    const { wallet } = await tradingWallet(api, tenant)
    const response = await api.app.inject({
      method: 'POST', url: `/v1/wallets/${wallet.id}/halt`, headers: { ...tenant.headers, 'content-type': 'application/json' },
      payload: raw({ reason: 'X' }, 'reason'),
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json()).toMatchObject({ error: { field: 'reason' } })
  })

  it('tenant name: refused rather than stored altered', async () => {
    const { api } = file
    const response = await api.app.inject({
      method: 'POST', url: '/admin/tenants', headers: { ...api.admin, 'content-type': 'application/json' },
      payload: raw({ name: 'X' }, 'name'),
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json()).toMatchObject({ error: { field: 'name' } })
  })
})

describe('lone surrogate echoed in an error body', () => {
  it('schedule target key: answered 4xx and the Idempotency-Key still answers afterwards', async () => {
    const { api, tenant } = file
    const { wallet } = await tradingWallet(api, tenant)
    const payload = '{"targets":{"a\\ud800":"0.5","USD":"0.5"},"cron":"0 * * * *","timeZone":"UTC","toleranceBand":"0.02","minTradeNotional":"10","limitOffsetBps":10}'
    const send = () => api.app.inject({
      method: 'POST', url: `/v1/wallets/${wallet.id}/schedules`, headers: { ...tenant.headers, 'content-type': 'application/json', 'idempotency-key': 'sched-surrogate' }, payload,
    })
    const first = await send()
    expect(first.statusCode, first.body).toBeLessThan(500)
    const again = await send()
    expect(again.statusCode, again.body).toBe(first.statusCode)
  })
})

describe('lone surrogate in a session revoke reason', () => {
  it('is refused before the revoke reaches the operator (not a 500 after it did, without an audit entry)', async () => {
    const { api, tenant } = file
    const { session } = await tradingWallet(api, tenant)
    // The operator knows the delegation (an authenticated read showed it): a revoke that reached it would mark it revoked.
    const [row] = await api.h.db.select().from(sessions).where(eq(sessions.id, session.id))
    expect(await readWith(api.h, row!)).toBe(200)
    const response = await api.app.inject({
      method: 'POST', url: `/v1/sessions/${session.id}/revoke`, headers: { ...tenant.headers, 'content-type': 'application/json' },
      payload: '{"reason":"a\\ud800b"}',
    })
    const after = (await tenant.request('GET', `/v1/sessions/${session.id}`)).json<{ status: string }>().status
    expect({ status: response.statusCode, session: after }, response.body).toEqual({ status: 400, session: 'active' })
    // Nor revoked at the operator: its delegation there is still live.
    expect(api.h.sandbox.state.delegations.byDelegationHash(row!.delegationHash!)?.revoked).toBe(false)
  })
})

const spec = { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 * * * *', timeZone: 'UTC', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 }

describe('schedule runs: beforeSlot', () => {
  it('a time Postgres cannot hold (year 0) is a 400 naming beforeSlot, not a 500', async () => {
    const { api, tenant } = file
    const { wallet } = await tradingWallet(api, tenant)
    const created = await tenant.request('POST', `/v1/wallets/${wallet.id}/schedules`, spec)
    expect(created.statusCode, created.body).toBe(201)
    const { id } = created.json<{ id: string }>()
    for (const beforeSlot of ['0000-06-01T00:00:00Z', '0001-01-01T00:00:00+01:00']) {
      const response = await tenant.request('GET', `/v1/schedules/${id}/runs?beforeSlot=${encodeURIComponent(beforeSlot)}`)
      expect(response.statusCode, `${beforeSlot}: ${response.body}`).toBe(400)
      expect(response.json()).toMatchObject({ error: { field: 'beforeSlot' } })
    }
  })
})

describe('a body nested deeper than any request needs', () => {
  it('is refused 400 naming where, not a 500 (the checks walking it overflowed the stack), and claims nothing', async () => {
    const { api, tenant } = file
    const { wallet } = await tradingWallet(api, tenant)
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`
    const send = (payload: string, key: string) => api.app.inject({
      method: 'POST', url: `/v1/wallets/${wallet.id}/orders`, headers: { ...tenant.headers, 'content-type': 'application/json', 'idempotency-key': key }, payload,
    })
    const inField = await send(`{"market":"ETH-USD","side":"buy","price":"1500","size":"0.1","clientRef":${deep}}`, 'deep-field')
    expect(inField.statusCode, inField.body).toBe(400)
    expect(inField.json()).toMatchObject({ error: { code: 'API.VALIDATION', field: expect.stringMatching(/^clientRef(\.0)+$/), rule: 'must not nest objects or arrays more than 32 deep' } })
    const whole = await send(deep, 'deep-body')
    expect(whole.statusCode, whole.body).toBe(400)
    expect(whole.json()).toMatchObject({ error: { code: 'API.VALIDATION', rule: 'must not nest objects or arrays more than 32 deep' } })
    // Refused before the key was claimed: the same key serves a good request.
    const good = await send(JSON.stringify(order), 'deep-field')
    expect(good.statusCode, good.body).toBe(201)
    expect((await tenant.request('GET', `/v1/orders?walletId=${wallet.id}&state=all`)).json<{ orders: unknown[] }>().orders).toHaveLength(1)
  })
})

describe('a key given twice in one object', () => {
  it('is refused 400 naming the key (JSON.parse would place the last value), stores nothing and claims nothing', async () => {
    const { api, tenant } = file
    const { wallet } = await tradingWallet(api, tenant)
    const send = (payload: string, key: string) => api.app.inject({
      method: 'POST', url: `/v1/wallets/${wallet.id}/orders`, headers: { ...tenant.headers, 'content-type': 'application/json', 'idempotency-key': key }, payload,
    })
    const twice = await send('{"market":"ETH-USD","side":"buy","price":"1500","size":"0.1","size":"100"}', 'twice')
    expect(twice.statusCode, twice.body).toBe(400)
    expect(twice.json()).toMatchObject({ error: { code: 'API.VALIDATION', field: 'size', rule: expect.stringContaining('must appear once') } })
    expect((await tenant.request('GET', `/v1/orders?walletId=${wallet.id}&state=all`)).json<{ orders: unknown[] }>().orders).toHaveLength(0)
    // Malformed JSON and prototype poisoning are answered as before.
    expect((await send('{"market":', 'broken')).statusCode).toBe(400)
    expect((await send('{"__proto__":{"x":1}}', 'proto')).statusCode).toBe(400)
    // Nothing was claimed: the same key serves the request written once.
    const good = await send(JSON.stringify(order), 'twice')
    expect(good.statusCode, good.body).toBe(201)
    expect(good.json()).toMatchObject({ size: '0.1' })
  })
})

describe('a JSON number beyond the range of a double', () => {
  it('is refused 400 naming the field, with or without an Idempotency-Key (the key\'s fingerprint threw on Infinity: a 500), and claims nothing', async () => {
    const { api, tenant } = file
    const { wallet } = await tradingWallet(api, tenant)
    const send = (payload: string, key?: string) => api.app.inject({
      method: 'POST', url: `/v1/wallets/${wallet.id}/sessions`,
      headers: { ...tenant.headers, 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) }, payload,
    })
    const rule = 'must be a finite number: JSON.parse reads a number beyond ±1.8e308 as Infinity'
    for (const key of [undefined, 'too-large']) {
      const refused = await send('{"lifetimeSeconds":1e400}', key)
      expect(refused.statusCode, refused.body).toBe(400)
      expect(refused.json()).toMatchObject({ error: { code: 'API.VALIDATION', field: 'lifetimeSeconds', rule } })
    }
    const nested = await send('{"needs":{"limitOrders":-1e999}}', 'nested')
    expect(nested.statusCode, nested.body).toBe(400)
    expect(nested.json()).toMatchObject({ error: { code: 'API.VALIDATION', field: 'needs.limitOrders', rule } })
    // Refused before the key was claimed: the same key serves the request written right.
    const good = await send('{"lifetimeSeconds":172800}', 'too-large')
    expect(good.statusCode, good.body).toBe(201)
  })
})
