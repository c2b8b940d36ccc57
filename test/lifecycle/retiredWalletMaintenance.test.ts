/**
 * A wallet row retired when its address's owner proved ownership for another tenant
 * (`takeUnprovenWallet`) is asked for nothing by session maintenance: its address is registered
 * again on a row of its own, which the grants are for. A worker holding a key for the address (a
 * development key) would otherwise grant the retired row a session of its own; so would one that
 * found the wallet due just before the takeover, unless the grant checks again under the wallet lock.
 * Nor do the writes the worker, the demo or a script make in process, without a tenant (the API's
 * refuse a retired wallet as an unknown one, 404): none starts work on a row nobody can see.
 */
import { eq } from 'drizzle-orm'
import { expect, it } from 'vitest'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { requestCancelAll } from '../../src/runtime/intake/requestOrderChange.js'
import { setPolicy } from '../../src/runtime/policy/setPolicy.js'
import { createSchedule } from '../../src/runtime/schedules/createSchedule.js'
import { rotateSession } from '../../src/runtime/sessions/rotateSession.js'
import { outbox, policies, schedules, sessions, wallets } from '../../src/store/schema/index.js'
import type { LocalWalletSigner } from '../../src/signers/LocalWalletSigner.js'
import { bareWallet } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const signers = new Map<string, LocalWalletSigner>()

const t = workerForFile({ walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()), maintenanceIntervalMs: 3_600_000 })

it('grants no session to a retired wallet, though a wallet signer for its address is at hand', async () => {
  const w = await bareWallet(t.h)
  signers.set(w.wallet.address.toLowerCase(), w.signer)
  await t.h.db.update(wallets).set({ retiredAt: new Date() }).where(eq(wallets.id, w.wallet.id))
  const report = await t.worker.maintainSessions(w.wallet.id)
  expect(report).toMatchObject({ failures: 0 })
  expect(await t.h.db.select().from(sessions).where(eq(sessions.walletId, w.wallet.id))).toEqual([])
})

it('grants none to a wallet retired after maintenance found it due: the grant checks it under the wallet lock', async () => {
  const w = await bareWallet(t.h)
  // What maintenance does for each wallet it found due, its list read before the takeover retired this one.
  await t.h.db.update(wallets).set({ retiredAt: new Date() }).where(eq(wallets.id, w.wallet.id))
  await expect(rotateSession({
    deps: t.worker.deps, keyring: t.h.keyring, walletSigner: w.signer, walletId: w.wallet.id, reason: 'sessionUnauthorized',
    lifetimeSeconds: 3600, onlyIfExpiringBefore: Math.floor(Date.now() / 1000) + 60,
  })).rejects.toThrow(/retired/)
  expect(await t.h.db.select().from(sessions).where(eq(sessions.walletId, w.wallet.id))).toEqual([])
})

it("refuses the in-process writes made without a tenant (the worker's compromise, a halt, a resume, a CancelAll, a policy, a schedule): nothing is stored on a retired wallet", async () => {
  const w = await bareWallet(t.h)
  await t.h.db.update(wallets).set({ retiredAt: new Date() }).where(eq(wallets.id, w.wallet.id))
  const walletId = w.wallet.id
  const spec = { targets: { ETH: '0.5', USD: '0.5' }, cron: '0 * * * *', timeZone: 'UTC', toleranceBand: '0.02', minTradeNotional: '10', limitOffsetBps: 10 }
  for (const write of [
    () => t.worker.compromise(walletId, 'suspected leak'),
    () => haltWallet(t.h.db, { walletId, reason: 'stop', actor: 'worker' }),
    () => resumeWallet(t.h.db, { walletId, actor: 'worker' }),
    () => requestCancelAll(t.h.db, { walletId }),
    () => setPolicy(t.h.db, { walletId, rules: { maxOpenOrders: 1 }, actor: 'worker' }),
    () => createSchedule({ db: t.h.db, queue: t.worker.controlQueue }, { walletId, ...spec }),
  ]) await expect(write()).rejects.toThrow(/walletId: .*retired/)
  expect(await t.h.db.select().from(outbox).where(eq(outbox.walletId, walletId))).toEqual([])
  expect(await t.h.db.select().from(policies).where(eq(policies.walletId, walletId))).toEqual([])
  expect(await t.h.db.select().from(schedules).where(eq(schedules.walletId, walletId))).toEqual([])
  expect(await t.h.db.select({ status: wallets.status }).from(wallets).where(eq(wallets.id, walletId))).toEqual([{ status: 'awaiting_delegation' }])
})
