import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { sessions } from '../../src/store/schema/index.js'
import { operatorOrders } from '../worker/support/operator.js'
import { rows } from '../worker/support/rows.js'
import { apiHarnessForFile, eventually, tradingWallet } from './support/apiHarness.js'

/* POST /v1/wallets/{id}/compromise: the suspected-compromise procedure, reachable by its user. */

const file = apiHarnessForFile()

type Compromised = { wallet: { id: string; status: string; haltedReason: string | null }; revokedSessions: number }

async function restingOrder(walletId: string) {
  const { tenant } = file
  const order = (await tenant.request('POST', `/v1/wallets/${walletId}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' })).json<{ id: string }>()
  await eventually(async () => (await tenant.request('GET', `/v1/orders/${order.id}`)).json<{ state: string }>().state === 'open')
  return order
}

describe('a suspected compromise, through the API', () => {
  it('halts the wallet, cancels its orders and revokes its session at the operator, audits and alerts; a second call finds nothing left', async () => {
    const { api, tenant } = file
    const { wallet, session } = await tradingWallet(api, tenant)
    const { address } = (await tenant.request('GET', `/v1/wallets/${wallet.id}`)).json<{ address: string }>()
    await restingOrder(wallet.id)

    const response = await tenant.request('POST', `/v1/wallets/${wallet.id}/compromise`, { reason: 'session key seen in a log' })
    expect(response.statusCode, response.body).toBe(200)
    expect(response.json<Compromised>()).toMatchObject({ wallet: { status: 'halted', haltedReason: 'compromise: session key seen in a log' }, revokedSessions: 1 })

    // At the operator: nothing open, the delegation revoked.
    expect(operatorOrders(api.h.sandbox, address).filter((o) => o.status === 'open')).toEqual([])
    const [row] = await api.h.db.select().from(sessions).where(eq(sessions.id, session.id))
    expect(row).toMatchObject({ status: 'revoked', revokedAt: expect.any(Date) })
    expect(api.h.sandbox.state.delegations.byDelegationHash(row!.delegationHash!)?.revoked).toBe(true)
    const audit = await rows(api.h.db).audit(wallet.id)
    expect(audit.filter((a) => a.action === 'wallet.compromise').map((a) => [a.actor, a.details])).toEqual([['api', { reason: 'session key seen in a log', revoked: 1, failed: [] }]])
    // The alert goes out beside the answer (its audit entry is written with its cross-process claim).
    await eventually(async () => (await rows(api.h.db).audit(wallet.id, 'alert.SESSION_COMPROMISE')).length === 1)
    // Intake refuses the halted wallet.
    const refused = await tenant.request('POST', `/v1/wallets/${wallet.id}/orders`, { market: 'ETH-USD', side: 'buy', price: '1500', size: '0.1' })
    expect([refused.statusCode, refused.json<{ error: { field: string; rule: string } }>().error]).toEqual([422, expect.objectContaining({ field: 'walletId', rule: expect.stringMatching(/halted \(compromise: session key seen in a log\)/) })])

    const again = await tenant.request('POST', `/v1/wallets/${wallet.id}/compromise`, { reason: 'session key seen in a log' })
    expect(again.statusCode, again.body).toBe(200)
    expect(again.json<Compromised>().revokedSessions).toBe(0)
  })

  it('answers 502 with Retry-After when the operator cannot revoke, leaves the wallet halted, and a second call completes it', async () => {
    const { api, tenant } = file
    const { wallet, session } = await tradingWallet(api, tenant)
    api.h.sandbox.setFaults({ errorRate: 1 })
    const failed = await tenant.request('POST', `/v1/wallets/${wallet.id}/compromise`, { reason: 'custody breach' })
    api.h.sandbox.setFaults({ errorRate: 0 })
    expect(failed.statusCode, failed.body).toBe(502)
    expect(failed.headers['retry-after']).toBe('5')
    expect(failed.json()).toMatchObject({ error: { code: 'SESSION.REVOKE_FAILED' } })
    expect((await tenant.request('GET', `/v1/wallets/${wallet.id}`)).json<{ status: string }>().status).toBe('halted')
    // Ended here at once (it never signs again), not yet at the operator: revoked_at null, retried.
    expect((await api.h.db.select().from(sessions).where(eq(sessions.id, session.id)))[0]).toMatchObject({ status: 'revoked', revokedAt: null })

    const retried = await tenant.request('POST', `/v1/wallets/${wallet.id}/compromise`, { reason: 'custody breach' })
    expect(retried.statusCode, retried.body).toBe(200)
    expect(retried.json<Compromised>().revokedSessions).toBe(1)
    expect((await api.h.db.select().from(sessions).where(eq(sessions.id, session.id)))[0]!.status).toBe('revoked')
  })

  it('has the halt and the ended session in the audit trail while the operator is still being asked, not only once it answered', async () => {
    const { api, tenant } = file
    const { wallet, session } = await tradingWallet(api, tenant)
    // Every request to the operator takes 1.5 s: the CancelAll, then the revocation. A process that
    // dies in that window must leave the halt and the session's end recorded.
    api.h.sandbox.setFaults({ latencyMs: 1_500 })
    try {
      const call = tenant.request('POST', `/v1/wallets/${wallet.id}/compromise`, { reason: 'laptop stolen' })
      await eventually(async () => (await api.h.db.select().from(sessions).where(eq(sessions.id, session.id)))[0]!.status === 'revoked')
      const during = await rows(api.h.db).audit(wallet.id)
      expect(during.filter((a) => a.action === 'wallet.compromise'), 'the outcome, not known yet').toEqual([])
      expect(during.filter((a) => a.action === 'wallet.halted').map((a) => [a.actor, a.details])).toEqual([['api', { reason: 'compromise: laptop stolen', cancelledLocally: 0, outboxId: expect.any(String) }]])
      expect(during.filter((a) => a.action === 'session.ended').map((a) => a.details)).toEqual([{ sessionId: session.id, reason: 'compromise: laptop stolen' }])
      expect((await call).statusCode).toBe(200)
    } finally {
      api.h.sandbox.setFaults({ latencyMs: 0 })
    }
    expect((await rows(api.h.db).audit(wallet.id, 'wallet.compromise')).map((a) => a.details)).toEqual([{ reason: 'laptop stolen', revoked: 1, failed: [] }])
  })
})
