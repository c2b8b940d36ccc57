/**
 * Revoking a session that has already ended at the operator changes nothing: the API answers it as
 * it is, without sending another revocation or writing another `session.revoked` entry (the audit
 * trail showed the session revoked twice, the second time with the later request's reason).
 */
import { and, eq } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { auditLog } from '../../src/store/schema/index.js'
import { apiHarnessForFile, tradingWallet } from './support/apiHarness.js'

const file = apiHarnessForFile()

it('a second revoke of a revoked session answers it as it is and writes nothing', async () => {
  const { api, tenant } = file
  const { wallet, session } = await tradingWallet(api, tenant)
  const first = await tenant.request('POST', `/v1/sessions/${session.id}/revoke`, { reason: 'first' })
  expect(first.statusCode, first.body).toBe(200)
  expect(first.json()).toMatchObject({ status: 'revoked', statusReason: 'first' })
  const entries = () => api.h.db.select().from(auditLog).where(and(eq(auditLog.walletId, wallet.id), eq(auditLog.action, 'session.revoked')))
  expect(await entries()).toHaveLength(1)
  const again = await tenant.request('POST', `/v1/sessions/${session.id}/revoke`, { reason: 'second' })
  expect(again.statusCode, again.body).toBe(200)
  expect(again.json()).toEqual(first.json())
  expect((await entries()).map((row) => row.details.reason)).toEqual(['first'])
})
