/**
 * What a user reads of an order recorded cancelled here that the operator still lists open, while
 * the reconciler's cancel of it is held for a session whose scope covers CancelOrder (the session
 * was granted through the API with Order and CancelAll; the API's worker holds no wallet signer).
 * The order shows as it is at the operator (`open`, no `cancelReason`), and its work lists the
 * pending cancel, `held`, with a note that says what it is and what releases it. Before, the note
 * said the session was being rotated ("rotating [Order, CancelAll] to ..."), which nothing does
 * without a wallet signer, and nothing said why an order its user was told is cancelled is open.
 */
import { eq } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { reconcile } from '../../jobs/reconcile.js'
import { orders } from '../../src/store/schema/index.js'
import { apiHarnessForFile, eventually, grantThroughApi } from './support/apiHarness.js'

const file = apiHarnessForFile()
type Work = { kind: string; status: string; note: string | null }
type OrderWithWork = { state: string; cancelReason: string | null; work: Work[] }

it('an order recorded cancelled and live at the operator shows open, with its cancel held and the note saying why and what to do', async () => {
  const { api, tenant } = file
  const created = (await tenant.request('POST', '/v1/wallets', { generate: true })).json<{ id: string; address: string }>()
  api.h.sandbox.fund(created.address, 'USD', '1000000')
  expect((await grantThroughApi(tenant, created.id, { lifetimeSeconds: 24 * 3600, families: ['Order', 'CancelAll'] })).statusCode).toBe(201)
  const order = (await tenant.request('POST', `/v1/wallets/${created.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1800', size: '0.1' })).json<{ id: string }>()
  const read = async () => (await tenant.request('GET', `/v1/orders/${order.id}`)).json<OrderWithWork>()
  await eventually(async () => (await read()).state === 'open', 20_000)
  // Recorded cancelled by its user here, as after a placement accepted without Deputy learning it.
  await api.h.db.update(orders).set({ state: 'cancelled', cancelReason: 'user' }).where(eq(orders.id, order.id))

  expect((await reconcile(api.worker.deps, { orphans: 'adopt', settleMs: 0 })).failures).toBe(0)
  await api.worker.relay()
  const shown = await eventually(async () => { const o = await read(); return o.work.some((w) => w.kind === 'CancelOrder' && w.status === 'held') && o }, 20_000)
  expect({ state: shown.state, cancelReason: shown.cancelReason }).toEqual({ state: 'open', cancelReason: null })
  const [cancel] = shown.work.filter((w) => w.kind === 'CancelOrder')
  expect(cancel!.note).toMatch(/^the operator still lists this order open though it was recorded cancelled here/)
  expect(cancel!.note).toMatch(/no wallet signer/)
  expect(cancel!.note).toMatch(/POST \/v1\/wallets\/\{id\}\/sessions\/rotate/)
  expect(cancel!.note).not.toMatch(/rotating/)
  // The listing shows it as it is at the operator too: working.
  const listed = (await tenant.request('GET', `/v1/orders?walletId=${created.id}`)).json<{ orders: { id: string; state: string }[] }>().orders
  expect(listed.map((o) => [o.id, o.state])).toEqual([[order.id, 'open']])
}, 60_000)
