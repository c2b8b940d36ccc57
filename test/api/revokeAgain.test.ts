/**
 * Revoking a session that has already ended at the operator changes nothing: the API answers it as
 * it is, without sending another revocation or writing another `session.revoked` entry (the audit
 * trail showed the session revoked twice, the second time with the later request's reason).
 */
import { and, eq } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { encryptSecret } from '../../src/keys/encryptSecret.js'
import { SessionKey } from '../../src/keys/SessionKey.js'
import { sessionKeyAad } from '../../src/runtime/sessions/sealedSessionKey.js'
import { auditLog, sessions } from '../../src/store/schema/index.js'
import { apiHarnessForFile, eventually, tradingWallet } from './support/apiHarness.js'

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
  // expiresInSeconds counts down from the moment of each answer, so it may be a second less the second time.
  const { expiresInSeconds: firstLeft, ...firstRest } = first.json()
  const { expiresInSeconds: againLeft, ...againRest } = again.json()
  expect(againRest).toEqual(firstRest)
  expect(firstLeft - againLeft).toBeGreaterThanOrEqual(0)
  expect(firstLeft - againLeft).toBeLessThanOrEqual(1)
  expect((await entries()).map((row) => row.details.reason)).toEqual(['first'])
})

it('a quarantined session (its key in doubt) is revoked with the wallet\'s signature and keeps its status', async () => {
  const { api, tenant } = file
  const { session } = await tradingWallet(api, tenant)
  // The sealed key is not the delegated one: the operator answered SignerMismatch, and a revocation signed with it would be too.
  const impostor = SessionKey.generate()
  const secret = impostor.exportSecretForEncryption()
  await api.h.db.update(sessions).set({
    status: 'quarantined', statusReason: 'operator answered SignerMismatch', sealedPrivateKey: encryptSecret(api.h.keyring, secret, sessionKeyAad(session.id)), publicKey: impostor.publicKey,
  }).where(eq(sessions.id, session.id))
  secret.fill(0)
  const [row] = await api.h.db.select().from(sessions).where(eq(sessions.id, session.id))

  const revoked = await tenant.request('POST', `/v1/sessions/${session.id}/revoke`, { reason: 'key in doubt' })
  expect(revoked.statusCode, revoked.body).toBe(200)
  expect(revoked.json()).toMatchObject({ status: 'quarantined', statusReason: 'operator answered SignerMismatch', revokedAt: expect.any(String) })
  expect(api.h.sandbox.state.delegations.byDelegationHash(row!.delegationHash!)?.revoked).toBe(true)
})

it('an active session whose sealed key is not its public key\'s is quarantined, alerted KEY_INTEGRITY, and revoked with the wallet\'s signature, never with that key', async () => {
  const { api, tenant } = file
  const { wallet, session } = await tradingWallet(api, tenant)
  // The stored key is not the delegated one (tampering, a bad rewrap, a restore from another backup); the row's public key is.
  const impostor = SessionKey.generate()
  const secret = impostor.exportSecretForEncryption()
  await api.h.db.update(sessions).set({ sealedPrivateKey: encryptSecret(api.h.keyring, secret, sessionKeyAad(session.id)) }).where(eq(sessions.id, session.id))
  secret.fill(0)
  api.worker.deps.sessions.forget(session.id)
  const [row] = await api.h.db.select().from(sessions).where(eq(sessions.id, session.id))

  const revoked = await tenant.request('POST', `/v1/sessions/${session.id}/revoke`, { reason: 'no longer needed' })
  expect(revoked.statusCode, revoked.body).toBe(200)
  expect(revoked.json()).toMatchObject({ status: 'quarantined', statusReason: expect.stringContaining('does not match'), revokedAt: expect.any(String) })
  expect(api.h.sandbox.state.delegations.byDelegationHash(row!.delegationHash!)?.revoked).toBe(true)
  const alerted = () => api.h.db.select().from(auditLog).where(and(eq(auditLog.walletId, wallet.id), eq(auditLog.action, 'alert.KEY_INTEGRITY')))
  expect(await eventually(async () => (await alerted()).length === 1)).toBe(true)
})
