/**
 * A wallet retired by a takeover (its address registered anew for the tenant that proved ownership,
 * `takeUnprovenWallet`) is out of its tenant's sight: it answers 404, and the status view neither
 * lists it nor counts its work.
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
