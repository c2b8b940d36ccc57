/**
 * The scope session maintenance asks for when it rotates a session (before expiry, for a scope
 * change, after a refusal): the narrowest covering the wallet's work now (the default families,
 * its schedules', its queued and in-flight work's), never below what the user chose explicitly
 * through the API (`families`, `needs`, `unrestricted`), and never without a family that work
 * queued or on the wire needs. A family the worker added once for a modify is not kept for ever.
 * Against the sandbox (through a gate, to keep a request on the wire), real Postgres and Redis.
 */
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sessions } from '../../src/store/schema/index.js'
import { type ApiHarness, type Tenant, createApiHarness, eventually, grantThroughApi } from '../api/support/apiHarness.js'
import { fromWallet, rows } from './support/lifecycle.js'

let api: ApiHarness
let tenant: Tenant
let r: ReturnType<typeof rows>
/** Wallets whose sessions the worker may rotate itself, by lowercase address: only those a test opts in. */
const rotating = new Set<string>()

beforeAll(async () => {
  api = await createApiHarness({
    gate: true,
    worker: {
      walletSignerFor: (wallet) => rotating.has(wallet.address.toLowerCase()) ? api.deps.walletSigners.signerFor(wallet) : undefined,
      // Sessions of a day are not due; one whose expiry a test brings within 3 h is.
      rotateLeadSeconds: 3 * 3600,
      rotationGraceMs: 1_000,
      maintenanceIntervalMs: 3_600_000,
    },
  })
  tenant = await api.tenant()
  r = rows(api.h.db)
})
afterAll(async () => { await api?.close() })

type Order = { id: string; state: string; price: string }

const activeSession = async (walletId: string) => (await api.h.db.select().from(sessions).where(and(eq(sessions.walletId, walletId), eq(sessions.status, 'active'))))[0]!

/** A funded wallet of the tenant with a day-long session granted through the API with `body`; the worker rotates its sessions. */
async function walletWith(body: Record<string, unknown>) {
  const wallet = (await tenant.request('POST', '/v1/wallets', { generate: true })).json<{ id: string; address: string }>()
  for (const [asset, amount] of Object.entries({ USD: '1000000', ETH: '100' })) api.h.sandbox.fund(wallet.address, asset, amount)
  const granted = await grantThroughApi(tenant, wallet.id, { lifetimeSeconds: 24 * 3600, ...body })
  expect(granted.statusCode, granted.body).toBe(201)
  rotating.add(wallet.address.toLowerCase())
  return wallet
}

async function restingOrder(walletId: string) {
  const order = (await tenant.request('POST', `/v1/wallets/${walletId}/orders`, { market: 'ETH-USD', side: 'buy', price: '1700', size: '0.1' })).json<Order>()
  await api.worker.relay()
  await eventually(async () => (await tenant.request('GET', `/v1/orders/${order.id}`)).json<Order>().state === 'open')
  return order
}

/** Modifies the order through the API and waits for the work to settle; returns it. */
async function modified(orderId: string, price: string) {
  const queued = await tenant.request('POST', `/v1/orders/${orderId}/modify`, { price, size: '0.1' })
  expect(queued.statusCode, queued.body).toBe(202)
  const { outboxId } = queued.json<{ outboxId: string }>()
  await api.worker.relay()
  return eventually(async () => {
    const row = (await r.outboxOf(orderId)).find((o) => o.id === outboxId)
    return row && ['done', 'failed'].includes(row.status) && row
  }, 20_000)
}

/** Brings the wallet's active session within the rotation lead and runs session maintenance for the wallet. */
async function expiryRotation(walletId: string) {
  const session = await activeSession(walletId)
  const soon = Math.floor(api.h.sandbox.now() / 1000) + 2 * 3600
  await api.h.db.update(sessions).set({ expiry: new Date(soon * 1000), expiryUnix: soon }).where(eq(sessions.id, session.id))
  expect((await api.worker.maintainSessions(walletId)).rotated).toBe(1)
  const next = await activeSession(walletId)
  expect(next.id).not.toBe(session.id)
  return { before: session, next }
}

describe('a routine rotation of a session the worker widened', () => {
  it('asks again for the narrowest scope the work needs, records the narrowing, and a later modify widens it again without failing', async () => {
    // The API's default scope: nobody named one.
    const wallet = await walletWith({})
    expect((await activeSession(wallet.id)).aclScope).toEqual(['Order', 'CancelOrder', 'CancelAll'])
    const order = await restingOrder(wallet.id)
    // One modify: the worker rotates the session to add ModifyOrder (a scope change).
    expect(await modified(order.id, '1701')).toMatchObject({ status: 'done' })
    const widened = await activeSession(wallet.id)
    expect(widened.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])

    // Nothing needs ModifyOrder any more: the rotation before expiry asks for the default scope.
    const { next } = await expiryRotation(wallet.id)
    expect(next.aclScope).toEqual(['Order', 'CancelOrder', 'CancelAll'])
    const [narrowed, ...more] = await r.audit(wallet.id, 'session.narrowed')
    expect(more).toEqual([])
    expect(narrowed!.details).toMatchObject({ sessionId: next.id, replaced: widened.id, from: widened.aclScope, to: next.aclScope, dropped: ['ModifyOrder'] })
    // A routine rotation of the narrowed session keeps it narrow.
    expect((await expiryRotation(wallet.id)).next.aclScope).toEqual(['Order', 'CancelOrder', 'CancelAll'])

    // A modify of an order placed under the narrowed session is held for a scope change, not failed, and lands.
    const later = await restingOrder(wallet.id)
    expect((await modified(later.id, '1702')).status).toBe('done')
    expect((await activeSession(wallet.id)).aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
    expect((await r.answeredRequestsOf(later.id)).map((q) => [q.family, q.status])).toEqual([['Order', 'accepted'], ['ModifyOrder', 'accepted']])
  })

  it('keeps ModifyOrder while a modify is on the wire, and the modify lands', async () => {
    const wallet = await walletWith({})
    const order = await restingOrder(wallet.id)
    expect(await modified(order.id, '1701')).toMatchObject({ status: 'done' })
    expect((await activeSession(wallet.id)).aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])

    // A second modify is held on the wire while maintenance rotates the session before expiry.
    const wire = api.gate!.hold((q) => q.family === 'ModifyOrder' && fromWallet(wallet.address)(q))
    const queued = (await tenant.request('POST', `/v1/orders/${order.id}/modify`, { price: '1703', size: '0.1' })).json<{ outboxId: string }>()
    await api.worker.relay()
    await wire.arrived
    const { next } = await expiryRotation(wallet.id)
    expect(next.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
    expect(await r.audit(wallet.id, 'session.narrowed')).toEqual([])
    wire.release()
    // Held past OPERATOR_TIMEOUT_MS (a slow rotation on a loaded machine), the modify's outcome is
    // unknown and it is resent after a backoff, perhaps refused for the session rotated out and signed
    // again: it lands all the same, later.
    const work = await eventually(async () => {
      const row = (await r.outboxOf(order.id)).find((o) => o.id === queued.outboxId)
      return row && ['done', 'failed'].includes(row.status) && row
    }, 60_000)
    expect(work.status).toBe('done')
  }, 120_000)
})

describe('a scope the user chose through the API', () => {
  it('is kept by routine rotations: families, needs and unrestricted as asked, only what the worker added is dropped', async () => {
    const all = await walletWith({ families: ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'] })
    const unrestricted = await walletWith({ unrestricted: true })
    const byNeeds = await walletWith({ needs: { limitOrders: true, modifications: true } })
    // Without CancelAll: the worker's default would add it, the user's choice is kept.
    const narrow = await walletWith({ families: ['Order', 'CancelOrder'] })
    expect(await modified((await restingOrder(narrow.id)).id, '1701')).toMatchObject({ status: 'done' })
    expect((await activeSession(narrow.id)).aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder'])

    expect((await expiryRotation(all.id)).next.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
    expect((await expiryRotation(unrestricted.id)).next.aclScope).toEqual(['Unrestricted'])
    expect((await expiryRotation(byNeeds.id)).next.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder'])
    expect((await expiryRotation(narrow.id)).next.aclScope).toEqual(['Order', 'CancelOrder'])
    // And again, the choice carried from session to session.
    expect((await expiryRotation(all.id)).next.aclScope).toEqual(['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'])
    for (const w of [all, unrestricted, byNeeds]) expect(await r.audit(w.id, 'session.narrowed')).toEqual([])
    expect((await r.audit(narrow.id, 'session.narrowed')).map((a) => a.details)).toEqual([expect.objectContaining({ from: ['Order', 'ModifyOrder', 'CancelOrder'], to: ['Order', 'CancelOrder'] })])
  })

  it('a rotation through the API naming families is a new choice; one naming nothing keeps the last', async () => {
    const wallet = await walletWith({ families: ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'] })
    const rotated = await tenant.request('POST', `/v1/wallets/${wallet.id}/sessions/rotate`, { families: ['Order', 'CancelOrder'] })
    expect(rotated.statusCode, rotated.body).toBe(201)
    expect((await tenant.request('POST', `/v1/wallets/${wallet.id}/sessions/rotate`, {})).statusCode).toBe(201)
    expect((await expiryRotation(wallet.id)).next.aclScope).toEqual(['Order', 'CancelOrder'])
  })
})
