import { describe, expect, it } from 'vitest'
import { scheduleRuns } from '../../src/store/schema/index.js'
import { apiHarnessForFile, grantThroughApi, tradingWallet } from './support/apiHarness.js'

// Lists a tenant can grow without bound answer at most `limit` rows (default 100, at most 500), and
// the ones read in creation order page on with `after` (the last row's id).
const file = apiHarnessForFile()
const spec = { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 * * * *', timeZone: 'UTC', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 }
const ids = (rows: { id: string }[]) => rows.map((row) => row.id)

describe('list pages', () => {
  it('schedules: oldest first, `limit` at a time, the next page after the last one read; a bad limit or after names its field', async () => {
    const { api, tenant } = file
    const { wallet } = await tradingWallet(api, tenant)
    const deleted: string[] = []
    for (let i = 0; i < 3; i++) {
      const created = await tenant.request('POST', `/v1/wallets/${wallet.id}/schedules`, spec)
      expect(created.statusCode, created.body).toBe(201)
      deleted.push(created.json<{ id: string }>().id)
      expect((await tenant.request('DELETE', `/v1/schedules/${deleted.at(-1)}`)).statusCode).toBe(200)
    }
    const page = async (query: string) => ids((await tenant.request('GET', `/v1/schedules?status=deleted&${query}`)).json<{ schedules: { id: string }[] }>().schedules)
    expect(await page('limit=2')).toEqual(deleted.slice(0, 2))
    expect(await page(`limit=2&after=${deleted[1]}`)).toEqual(deleted.slice(2))
    expect(await page('')).toEqual(deleted)
    const tooMany = await tenant.request('GET', '/v1/schedules?limit=501')
    expect([tooMany.statusCode, tooMany.json<{ error: { field: string } }>().error.field]).toEqual([400, 'limit'])
    const unknown = await tenant.request('GET', `/v1/schedules?after=${crypto.randomUUID()}`)
    expect([unknown.statusCode, unknown.json<{ error: { field: string } }>().error.field]).toEqual([404, 'after'])
  })

  it("the tenant's wallets: oldest first, page by page, each once; another tenant's wallet is no page mark", async () => {
    const { api, tenant } = file
    for (let i = 0; i < 3; i++) expect((await tenant.request('POST', '/v1/wallets', { generate: true })).statusCode).toBe(201)
    const read = async (query: string) => ids((await tenant.request('GET', `/v1/wallets${query}`)).json<{ wallets: { id: string }[] }>().wallets)
    const everyone = await read('?limit=500')
    expect(everyone.length).toBeGreaterThanOrEqual(3)
    const paged: string[] = []
    for (let page = await read('?limit=2'); page.length; page = await read(`?limit=2&after=${paged.at(-1)}`)) paged.push(...page)
    expect(paged).toEqual(everyone)
    const other = await api.tenant()
    const theirs = (await other.request('POST', '/v1/wallets', { generate: true })).json<{ id: string }>().id
    const foreign = await tenant.request('GET', `/v1/wallets?after=${theirs}`)
    expect([foreign.statusCode, foreign.json<{ error: { field: string } }>().error.field]).toEqual([404, 'after'])
  })

  it("a wallet's sessions: newest first, page by page with `before` (the last one read), each once; another wallet's session is no page mark", async () => {
    const { api, tenant } = file
    const { wallet, session: first } = await tradingWallet(api, tenant)
    const later: string[] = []
    for (let i = 0; i < 2; i++) {
      const granted = await grantThroughApi(tenant, wallet.id, { lifetimeSeconds: 24 * 3600, needs: { limitOrders: true } })
      expect(granted.statusCode, granted.body).toBe(201)
      later.push(granted.json<{ session: { id: string } }>().session.id)
    }
    const list = async (query: string) => ids((await tenant.request('GET', `/v1/wallets/${wallet.id}/sessions${query}`)).json<{ sessions: { id: string }[] }>().sessions)
    expect(await list('?limit=2')).toEqual([...later].reverse())
    const everyone = [...later].reverse().concat(first.id)
    expect(await list('')).toEqual(everyone)
    const paged: string[] = []
    for (let page = await list('?limit=2'); page.length; page = await list(`?limit=2&before=${paged.at(-1)}`)) paged.push(...page)
    expect(paged).toEqual(everyone)
    const { session: elsewhere } = await tradingWallet(api, tenant)
    for (const mark of [elsewhere.id, crypto.randomUUID()]) {
      const refused = await tenant.request('GET', `/v1/wallets/${wallet.id}/sessions?before=${mark}`)
      expect([refused.statusCode, refused.json<{ error: { field: string } }>().error.field]).toEqual([404, 'before'])
    }
  })

  it("the tenant's orders: newest first, page by page with `before` (the last one read), each once; a foreign order is no page mark", async () => {
    const { api, tenant } = file
    const { wallet } = await tradingWallet(api, tenant)
    const placed: string[] = []
    for (let i = 0; i < 5; i++) {
      const response = await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: String(1000 + i), size: '0.1' })
      expect(response.statusCode, response.body).toBe(201)
      placed.push(response.json<{ id: string }>().id)
    }
    const read = async (query: string) => {
      const response = await tenant.request('GET', `/v1/orders?walletId=${wallet.id}&state=all${query}`)
      expect(response.statusCode, response.body).toBe(200)
      return ids(response.json<{ orders: { id: string }[] }>().orders)
    }
    const everyone = await read('&limit=500')
    expect([...everyone].sort()).toEqual([...placed].sort())
    const paged: string[] = []
    for (let page = await read('&limit=2'); page.length; page = await read(`&limit=2&before=${paged.at(-1)}`)) paged.push(...page)
    expect(paged).toEqual(everyone)
    const other = await api.tenant()
    const { wallet: theirs } = await tradingWallet(api, other)
    const theirOrder = (await other.request('POST', `/v1/wallets/${theirs.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1000', size: '0.1' })).json<{ id: string }>().id
    const foreign = await tenant.request('GET', `/v1/orders?before=${theirOrder}`)
    expect([foreign.statusCode, foreign.json<{ error: { field: string } }>().error.field]).toEqual([404, 'before'])
  })

  it("a schedule's runs: latest slot first, `limit` at a time (default 100, as every list), the next page before the last slot read", async () => {
    const { api, tenant } = file
    const { wallet } = await tradingWallet(api, tenant)
    const created = await tenant.request('POST', `/v1/wallets/${wallet.id}/schedules`, spec)
    expect(created.statusCode, created.body).toBe(201)
    const scheduleId = created.json<{ id: string }>().id
    // 120 hourly runs, as the scheduler would have recorded them (skipped: nothing traded).
    const slots = Array.from({ length: 120 }, (_, i) => new Date(Date.UTC(2030, 0, 1, i)))
    await api.h.db.insert(scheduleRuns).values(slots.map((slotAt) => ({
      scheduleId, walletId: wallet.id, slotAt, scheduleVersion: 1, status: 'skipped' as const, reason: 'noSession', detail: 'test', finishedAt: slotAt,
    })))
    const read = async (query: string) => {
      const response = await tenant.request('GET', `/v1/schedules/${scheduleId}/runs${query}`)
      expect(response.statusCode, response.body).toBe(200)
      return response.json<{ runs: { slotAt: string }[] }>().runs.map((run) => run.slotAt)
    }
    const latestFirst = slots.map((slot) => slot.toISOString()).reverse()
    expect(await read('')).toEqual(latestFirst.slice(0, 100))
    expect(await read(`?beforeSlot=${latestFirst[99]}`)).toEqual(latestFirst.slice(100))
    expect(await read('?limit=500')).toEqual(latestFirst)
  })

  it('tenants (admin): oldest first, page by page, each once', async () => {
    const { api } = file
    for (let i = 0; i < 3; i++) await api.tenant()
    const read = async (query: string) => ids((await api.app.inject({ method: 'GET', url: `/admin/tenants${query}`, headers: api.admin })).json<{ tenants: { id: string }[] }>().tenants)
    const everyone = await read('?limit=500')
    expect(everyone.length).toBeGreaterThanOrEqual(4)
    const paged: string[] = []
    for (let page = await read('?limit=2'); page.length; page = await read(`?limit=2&after=${paged.at(-1)}`)) paged.push(...page)
    expect(paged).toEqual(everyone)
  })
})
