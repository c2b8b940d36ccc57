/**
 * Revoking a wallet's active session (the API's POST /v1/sessions/{id}/revoke) leaves the wallet
 * without a session to sign with: its status says so at once (`awaiting_delegation`), as at expiry,
 * so session maintenance replaces it where the wallet has a signer, and the API does not show a
 * wallet that cannot trade as `active`. A revocation of a rotated-out session leaves the wallet as
 * it is, and a halted wallet stays halted.
 */
import { and, eq } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { revokeAtOperator } from '../../src/runtime/sessions/revokeAtOperator.js'
import { haltWallet } from '../../src/runtime/intake/killSwitch.js'
import { grantSession } from '../../src/runtime/sessions/grantSession.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import { sessions, wallets } from '../../src/store/schema/index.js'
import { grantBackoffs } from '../../src/store/repositories/grantBackoffs.js'
import { eventually } from '../worker/support/harness.js'
import { readWith } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

// Session maintenance runs only when a test calls it: a periodic run (every 10 s by default) would
// revoke at the operator the session the last test reads before its own call does.
const t = workerForFile({ maintenanceIntervalMs: 3_600_000 })

const walletStatus = async (walletId: string) => (await t.h.db.select({ status: wallets.status }).from(wallets).where(eq(wallets.id, walletId)))[0]!.status
const sessionRow = async (sessionId: string) => (await t.h.db.select().from(sessions).where(eq(sessions.id, sessionId)))[0]!

it("the wallet of a revoked active session awaits a delegation", async () => {
  const { wallet, session } = await t.h.wallet()
  expect(await walletStatus(wallet.id)).toBe('active')
  await revokeAtOperator(t.worker.deps, t.h.keyring, await sessionRow(session.id), 'revoked through the API')
  expect((await sessionRow(session.id)).status).toBe('revoked')
  expect(await walletStatus(wallet.id)).toBe('awaiting_delegation')
})

it('a wallet that still has an active session stays active, and a halted one stays halted', async () => {
  const { signer, wallet, session: first } = await t.h.wallet()
  // A second grant rotates the first session out.
  const { session: second } = await grantSession({
    db: t.h.db, keyring: t.h.keyring, domain: t.h.sandbox.domain, walletSigner: signer, walletId: wallet.id,
    families: ['Order', 'CancelOrder'], lifetimeSeconds: 3600, nowMs: t.h.sandbox.now(),
  })
  expect((await sessionRow(first.id)).status).toBe('rotating')
  await revokeAtOperator(t.worker.deps, t.h.keyring, await sessionRow(first.id), 'rotated')
  expect(await walletStatus(wallet.id)).toBe('active')

  await haltWallet(t.h.db, { walletId: wallet.id, reason: 'test' })
  await revokeAtOperator(t.worker.deps, t.h.keyring, await sessionRow(second.id), 'revoked through the API')
  expect(await walletStatus(wallet.id)).toBe('halted')
})

it("revoking the active session is no failure of it, when the worker learns of the revocation before it is recorded", async () => {
  const { wallet, session } = await t.h.wallet()
  // The worker's event stream (or a request refused) may record the operator's SessionRevoked
  // before the revocation's own answer is back: here, always.
  const venue = t.worker.deps.venue
  const deps = {
    ...t.worker.deps,
    venue: {
      ...venue,
      revoke: async (body: Parameters<typeof venue.revoke>[0]) => {
        const answer = await venue.revoke(body)
        await eventually(async () => (await sessionRow(session.id)).status === 'revoked', 20_000)
        return answer
      },
    },
  }
  await revokeAtOperator(deps, t.h.keyring, await sessionRow(session.id), 'revoked through the API')
  const row = await sessionRow(session.id)
  expect(row.status).toBe('revoked')
  expect(row.revokedAt).not.toBeNull()
  // Not counted against the wallet's automatic grants (no backoff, no SESSION_GRANTS_FAILING).
  expect(row.failedAt).toBeNull()
  expect(await grantBackoffs(t.h.db, [wallet.id], Date.now())).toEqual(new Map())
})

it("a session read while its grant waited for the wallet, and revoked once the wallet signed, is still revoked at the operator", async () => {
  const { signer, wallet } = await t.h.wallet()
  let sign!: () => void
  const signing = new Promise<void>((resolve) => { sign = resolve })
  let probed!: () => void
  const probing = new Promise<void>((resolve) => { probed = resolve })
  let finishProbe!: () => void
  const probeHeld = new Promise<void>((resolve) => { finishProbe = resolve })
  const slow: WalletSigner = { kind: 'local', address: signer.address, signDelegation: async (typedData) => { await signing; return signer.signDelegation(typedData) }, signRevocation: (typedData) => signer.signRevocation(typedData) }
  const granting = grantSession({
    db: t.h.db, keyring: t.h.keyring, domain: t.h.sandbox.domain, walletSigner: slow, walletId: wallet.id, families: ['Order', 'CancelOrder'], lifetimeSeconds: 3600, nowMs: t.h.sandbox.now(),
    probe: async () => { probed(); await probeHeld; return [] },
  }).then(() => undefined, (error: unknown) => error)
  // The API reads the session (POST /v1/sessions/{id}/revoke) while the wallet is still signing...
  const pending = await eventually(async () => (await t.h.db.select().from(sessions).where(and(eq(sessions.walletId, wallet.id), eq(sessions.status, 'pending'))))[0])
  expect(pending.delegatedPayload).toBeNull()
  // ...and the wallet's signature is stored before the revocation is recorded.
  sign()
  await probing
  await revokeAtOperator(t.worker.deps, t.h.keyring, pending, 'revoked through the API')
  finishProbe()
  expect(await granting).toMatchObject({ code: 'SESSION.GRANT_ENDED' })
  const ended = await sessionRow(pending.id)
  expect(ended.status).toBe('revoked')
  // Its delegation works at the operator: not recorded as revoked there, so maintenance revokes it.
  expect(await readWith(t.h, ended)).toBe(200)
  expect(ended.revokedAt).toBeNull()
  await t.worker.maintainSessions(wallet.id)
  expect(await readWith(t.h, ended)).toBe(401)
  expect((await sessionRow(pending.id)).revokedAt).not.toBeNull()
})
