/**
 * The operator refusing the active session in the middle of a burst of placements (revoked
 * behind the worker's back; a key that is not the delegated one): one new session, each refused
 * placement signed again under it exactly once, nothing accepted twice, and the bad key never
 * used again.
 */
import { eq } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { formatAmount, parseAmount } from '../../src/core/money/decimal.js'
import { SessionKey } from '../../src/keys/SessionKey.js'
import { encryptSecret } from '../../src/keys/encryptSecret.js'
import { sessionKeyAad } from '../../src/runtime/sessions/sealedSessionKey.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import { type OrderRow, sessions } from '../../src/store/schema/index.js'
import { activeWallet, eventually, operatorOpenOrders, operatorOrders, place, revokeBehindTheWorkersBack } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const signers = new Map<string, WalletSigner>()
const alerts: { walletId: string; code: string }[] = []

const t = workerForFile({
  walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
  rotationGraceMs: 1_000, maintenanceIntervalMs: 3_600_000,
  alert: (event) => { alerts.push(event) },
})

async function burst(walletId: string, during: () => Promise<unknown>): Promise<OrderRow[]> {
  t.h.sandbox.setFaults({ latencyMs: 40 })
  const placed: OrderRow[] = []
  const placing = (async () => {
    for (let i = 0; i < 16; i++) {
      placed.push(await place(t.h, t.worker, walletId, { price: formatAmount(parseAmount('p', '1800') + BigInt(i) * 10n ** 18n) }))
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })()
  await new Promise((resolve) => setTimeout(resolve, 70))
  await during()
  await placing
  return placed
}

async function expectEachPlacedOnceUnder(walletId: string, address: string, oldId: string, placed: OrderRow[]) {
  const next = await eventually(async () => (await t.r.sessionsOf(walletId)).find((s) => s.status === 'active' && s.id !== oldId))
  await eventually(async () => (await t.r.outboxOfWallet(walletId)).every((o) => o.status === 'done'), 20_000)
  t.h.sandbox.setFaults({ latencyMs: 0 })
  expect((await t.r.sessionsOf(walletId)).filter((s) => s.id !== oldId).map((s) => s.status)).toEqual(['active'])
  const requests = await t.r.answeredRequestsOfWallet(walletId)
  for (const order of placed) {
    const mine = requests.filter((q) => q.orderId === order.id && q.family === 'Order')
    const accepted = mine.filter((q) => q.status === 'accepted')
    expect(accepted).toHaveLength(1)
    // Refused under the old session at most once, then signed once under the new one.
    const underNew = mine.filter((q) => q.sessionId === next.id)
    if (accepted[0]!.sessionId === next.id) {
      expect(underNew).toHaveLength(1)
      expect(mine.filter((q) => q.sessionId === oldId).length).toBeLessThanOrEqual(1)
    } else {
      expect(underNew).toHaveLength(0)
    }
  }
  const intents = new Set(placed.map((o) => o.intentId))
  // The orders the old session had placed are cancelled by its end there and placed again: settled once both sides agree.
  const { open, shown } = await eventually(async () => {
    const rowsOpen = (await t.r.ordersOf(walletId)).filter((o) => o.state === 'open')
    const atOperator = operatorOpenOrders(t.h.sandbox, address)
    const same = JSON.stringify(atOperator.map((o) => o.clientOrderId).sort()) === JSON.stringify(rowsOpen.map((o) => o.clientOrderId.toLowerCase()).sort())
    return rowsOpen.length === placed.length && same && { open: atOperator, shown: rowsOpen }
  }, 15_000)
  expect(new Set(shown.map((o) => o.intentId))).toEqual(intents)
  expect(open.every((o) => o.delegationHash === next.delegationHash)).toBe(true)
  expect(operatorOrders(t.h.sandbox, address).filter((o) => o.status === 'open').length).toBe(placed.length)
  return next
}

describe('the operator refuses the session mid-burst', () => {
  it('SessionUnauthorized: one new session, each refused placement signed again once under it', async () => {
    const w = await activeWallet(t.h, { families: ['Order', 'CancelOrder', 'CancelAll'] })
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    const placed = await burst(w.wallet.id, async () => expect(await revokeBehindTheWorkersBack(t.worker.deps, w.wallet.id)).toBe(200))
    const next = await expectEachPlacedOnceUnder(w.wallet.id, w.wallet.address, w.session.id, placed)
    expect(next.aclScope).toEqual(['Order', 'CancelOrder', 'CancelAll'])
    expect((await t.r.session(w.session.id)).status).toBe('revoked')
    // The revocation landed mid-burst: the operator refused some placement under the old session
    // (else nothing above was signed again, and every check of it passes unexercised).
    const old = (await t.r.answeredRequestsOfWallet(w.wallet.id)).filter((q) => q.sessionId === w.session.id)
    expect(old.some((q) => q.family === 'Order' && q.errorCode === 'SessionUnauthorized')).toBe(true)
    signers.delete(w.wallet.address.toLowerCase())
  })

  it('SignerMismatch: quarantined, alerted, never used again, each placement once under the new session', async () => {
    const w = await activeWallet(t.h, { families: ['Order', 'CancelOrder', 'CancelAll'] })
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    const placed = await burst(w.wallet.id, async () => {
      const impostor = SessionKey.generate()
      const secret = impostor.exportSecretForEncryption()
      await t.h.db.update(sessions).set({ sealedPrivateKey: encryptSecret(t.h.keyring, secret, sessionKeyAad(w.session.id)), publicKey: impostor.publicKey }).where(eq(sessions.id, w.session.id))
      secret.fill(0)
      t.worker.deps.sessions.forget(w.session.id)
    })
    await expectEachPlacedOnceUnder(w.wallet.id, w.wallet.address, w.session.id, placed)
    expect((await t.r.session(w.session.id)).status).toBe('quarantined')
    expect(alerts.some((a) => a.walletId === w.wallet.id && a.code === 'KEY_INTEGRITY')).toBe(true)
    // Nothing under the old session was accepted once the key was swapped: every one after the first refusal is refused too.
    const old = (await t.r.answeredRequestsOfWallet(w.wallet.id)).filter((q) => q.sessionId === w.session.id)
    const firstMismatch = old.findIndex((q) => q.errorCode === 'SignerMismatch')
    expect(firstMismatch).toBeGreaterThanOrEqual(0)
    expect(old.slice(firstMismatch).every((q) => q.status === 'rejected')).toBe(true)
    await eventually(async () => { await t.worker.maintainSessions(w.wallet.id); return (await t.r.session(w.session.id)).revokedAt !== null }, 10_000, 250)
    signers.delete(w.wallet.address.toLowerCase())
  })
})
