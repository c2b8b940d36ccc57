/**
 * A wallet retired by a takeover (its address registered anew for the tenant that proved ownership,
 * `takeUnprovenWallet`) is out of its tenant's sight: it answers 404, and the status view neither
 * lists it nor counts its work. A page mark that named it still pages on: the wallet list is ordered
 * by registration, and the retired row keeps its place.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { outbox, wallets } from '../../src/store/schema/index.js'
import { type ApiHarness, createApiHarness } from './support/apiHarness.js'

let api: ApiHarness

beforeAll(async () => { api = await createApiHarness() })
afterAll(async () => { await api?.close() })

const retire = (walletId: string) => api.h.db.update(wallets).set({ retiredAt: new Date() }).where(eq(wallets.id, walletId))

it("the status view does not count a retired wallet's failed work", async () => {
  const tenant = await api.tenant()
  const walletId = (await tenant.request('POST', '/v1/wallets', { generate: true })).json<{ id: string }>().id
  await api.h.db.insert(outbox).values({ walletId, kind: 'CancelAll', payload: { market: '' }, status: 'failed', lastError: 'refused' })
  const failed = async () => (await tenant.request('GET', '/v1/status')).json<{ work: { failed: number } }>().work.failed
  expect(await failed()).toBe(1)
  await retire(walletId)
  expect(await failed()).toBe(0)
})

it('a retired wallet named as the page mark of the wallet list pages on from its place; another tenant\'s is still refused', async () => {
  const tenant = await api.tenant()
  const ids: string[] = []
  for (let i = 0; i < 3; i++) ids.push((await tenant.request('POST', '/v1/wallets', { generate: true })).json<{ id: string }>().id)
  const page = async (query: string) => {
    const response = await tenant.request('GET', `/v1/wallets${query}`)
    expect(response.statusCode, response.body).toBe(200)
    return response.json<{ wallets: { id: string }[] }>().wallets.map((w) => w.id)
  }
  expect(await page('?limit=2')).toEqual(ids.slice(0, 2))
  // Retired between two pages: the next page is the one it would have been.
  await retire(ids[1]!)
  expect(await page(`?limit=2&after=${ids[1]}`)).toEqual([ids[2]])
  expect(await page('')).toEqual([ids[0], ids[2]])
  expect((await tenant.request('GET', `/v1/wallets/${ids[1]}`)).statusCode).toBe(404)
  const other = await api.tenant()
  const foreign = await other.request('GET', `/v1/wallets?after=${ids[1]}`)
  expect([foreign.statusCode, foreign.json<{ error: { field: string } }>().error.field]).toEqual([404, 'after'])
})
