import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { audit } from '../../src/store/repositories/audit.js'
import { type ApiHarness, type Tenant, createApiHarness, tradingWallet } from './support/apiHarness.js'

/* GET /v1/wallets/{id}/audit: a wallet's trail, newest first, a page at a time. */

let api: ApiHarness
let tenant: Tenant
let walletId: string
let otherWalletId: string

type Page = { entries: { id: string; at: string; actor: string; action: string; details: Record<string, unknown> }[]; nextBefore: string | null }

beforeAll(async () => {
  api = await createApiHarness()
  tenant = await api.tenant()
  walletId = (await tradingWallet(api, tenant)).wallet.id
  otherWalletId = (await tradingWallet(api, tenant)).wallet.id
  // Seven repairs of this wallet, interleaved with entries of the other wallet and of no wallet.
  for (let n = 1; n <= 7; n++) {
    await audit(api.h.db, { walletId, actor: 'reconciler', action: 'order.adopted', details: { n } })
    await audit(api.h.db, { walletId: otherWalletId, actor: 'reconciler', action: 'order.adopted', details: { n } })
    await audit(api.h.db, { actor: 'worker', action: 'worker.started', details: { n } })
  }
})
afterAll(async () => { await api?.close() })

const read = async (query = '') => {
  const response = await tenant.request('GET', `/v1/wallets/${walletId}/audit${query}`)
  expect(response.statusCode, response.body).toBe(200)
  return response.json<Page>()
}

describe("a wallet's audit trail", () => {
  it('lists only this wallet\'s entries, newest first, with the session grant among them', async () => {
    const { entries, nextBefore } = await read()
    expect(nextBefore).toBeNull()
    const ids = entries.map((e) => BigInt(e.id))
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : 1)))
    expect(entries.slice(0, 7).map((e) => [e.actor, e.action, e.details.n])).toEqual([7, 6, 5, 4, 3, 2, 1].map((n) => ['reconciler', 'order.adopted', n]))
    // The grant made through the API, written by the worker before the repairs.
    expect(entries.slice(7).map((e) => e.action)).toContain('session.activated')
    expect(entries.every((e) => !Number.isNaN(Date.parse(e.at)))).toBe(true)
  })

  it('pages with nextBefore until the oldest entry, each entry once', async () => {
    const all = (await read()).entries.map((e) => e.id)
    const seen: string[] = []
    let query = '?limit=3'
    for (let page = 0; page < 20; page++) {
      const { entries, nextBefore } = await read(query)
      expect(entries.length).toBeLessThanOrEqual(3)
      seen.push(...entries.map((e) => e.id))
      if (!nextBefore) break
      expect(nextBefore).toBe(entries[entries.length - 1]!.id)
      query = `?limit=3&before=${nextBefore}`
    }
    expect(seen).toEqual(all)
  })

  it('filters by action and by actor', async () => {
    const adopted = await read('?action=order.adopted&limit=5')
    expect(adopted.entries.map((e) => e.details.n)).toEqual([7, 6, 5, 4, 3])
    expect((await read(`?action=order.adopted&limit=5&before=${adopted.nextBefore}`)).entries.map((e) => e.details.n)).toEqual([2, 1])
    const byWorker = await read('?actor=worker')
    expect(byWorker.entries.length).toBeGreaterThan(0)
    expect(new Set(byWorker.entries.map((e) => e.actor))).toEqual(new Set(['worker']))
    expect((await read('?action=nothing.like.this')).entries).toEqual([])
  })
})
