/**
 * The CLI's HTTP client sends every POST under one Idempotency-Key, reused across its retries, so a
 * command that retries never acts twice. A retry made while the first attempt is still running
 * (its answer timed out on the client, the API still at work) is answered 409
 * API.IDEMPOTENCY_IN_PROGRESS with Retry-After: the client waits and asks again under the same key,
 * and gets the first attempt's answer, instead of giving up with an error that leaves the user
 * running the command again under a new key, which places the order a second time.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { ApiClient } from '../../src/cli/ApiClient.js'
import { orders } from '../../src/store/schema/index.js'
import { type ApiHarness, type Tenant, createApiHarness, eventually, tradingWallet } from '../api/support/apiHarness.js'
import { withBlocker } from '../support/lockWaiters.js'

let api: ApiHarness
let tenant: Tenant

beforeAll(async () => {
  api = await createApiHarness({ listen: true })
  tenant = await api.tenant()
})
afterAll(async () => { await api?.close() })

it('a placement whose answer timed out is answered once the first attempt finishes, and placed once', async () => {
  const { wallet } = await tradingWallet(api, tenant)
  const client = new ApiClient({ baseUrl: api.url!, apiKey: tenant.key, timeoutMs: 500 })
  // Another transaction holds the wallet row: the placement's intake waits for it, past the client's timeout.
  await withBlocker(api.h.databaseUrl, async ({ blocker, waiters }) => {
    await blocker.query('begin')
    await blocker.query('select 1 from wallets where id = $1 for update', [wallet.id])
    const placing = client.post<{ id: string; price: string }>(`/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' })
      .then((v) => v, (e: unknown) => e)
    await eventually(async () => (await waiters()) >= 1)
    // Past the client's timeout and its first retry (answered 409 while the first attempt waits).
    await new Promise((r) => setTimeout(r, 1_200))
    await blocker.query('commit')
    const placed = await placing
    expect(placed).not.toBeInstanceOf(Error)
    const stored = await api.h.db.select().from(orders).where(eq(orders.walletId, wallet.id))
    expect(stored).toHaveLength(1)
    expect(placed).toMatchObject({ id: stored[0]!.id, price: '1500' })
  })
})
