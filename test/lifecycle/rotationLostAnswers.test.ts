/**
 * Rotation while answers are lost: placements whose answer the operator dropped keep resending
 * the old session's bytes until it is revoked; after that they are resolved by reading the order,
 * and every intent ends with exactly one live order at the operator, under the new session.
 */
import { describe, expect, it } from 'vitest'
import { formatAmount, parseAmount } from '../../src/core/money/decimal.js'
import type { WalletSigner } from '../../src/signers/WalletSigner.js'
import type { OrderRow } from '../../src/store/schema/index.js'
import { activeWallet, eventually, operatorDelegation, operatorOpenOrders, operatorOrders, place } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const signers = new Map<string, WalletSigner>()

const t = workerForFile({
  walletSignerFor: (wallet) => signers.get(wallet.address.toLowerCase()),
  rotateLeadSeconds: 3 * 3600, rotationGraceMs: 1_000, maintenanceIntervalMs: 3_600_000,
})

/** Rotates the wallet's session (the worker's first periodic maintenance run, at its start, may be the one that does). */
async function rotated(walletId: string, oldId: string) {
  await eventually(async () => {
    await t.worker.maintainSessions(walletId)
    return (await t.r.sessionsOf(walletId)).some((s) => s.status === 'active' && s.id !== oldId)
  })
}

async function checkOneLivePerIntent(walletId: string, address: string, nextDelegation: string, placed: OrderRow[]) {
  const live = await eventually(async () => {
    const open = operatorOpenOrders(t.h.sandbox, address)
    const shown = (await t.r.ordersOf(walletId)).filter((o) => o.state === 'open')
    return open.length === placed.length && shown.length === placed.length && open
  }, 30_000)
  expect(live.every((o) => o.delegationHash === nextDelegation)).toBe(true)
  const intents = new Set<string>()
  for (const order of await t.r.ordersOf(walletId)) {
    if (order.state !== 'open') continue
    expect(intents.has(order.intentId!)).toBe(false)
    intents.add(order.intentId!)
  }
  expect([...intents].sort()).toEqual(placed.map((o) => o.intentId!).sort())
  await eventually(async () => (await t.r.outboxOfWallet(walletId)).every((o) => o.status === 'done'), 15_000)
  // Every order the operator ever held for the wallet is one of ours, live, or ended by the old session's
  // revocation (the reason arrives with the stream's event, which a read may have overtaken).
  await eventually(async () => {
    const ours = new Map((await t.r.ordersOf(walletId)).map((o) => [o.clientOrderId.toLowerCase(), o]))
    return operatorOrders(t.h.sandbox, address).every((o) => ours.has(o.clientOrderId) && (o.status === 'open' || ours.get(o.clientOrderId)!.cancelReason === 'sessionRevoked'))
  })
}

describe('rotation while answers are lost', () => {
  it('a placement whose answers are lost across the rotation and the revocation is resolved, never placed twice', async () => {
    const w = await activeWallet(t.h, { lifetimeSeconds: 2 * 3600, families: ['Order', 'CancelOrder', 'CancelAll'] })
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    t.h.sandbox.setFaults({ dropAfterAccept: 1 })
    const order = await place(t.h, t.worker, w.wallet.id)
    await eventually(async () => (await t.r.order(order.id)).state === 'unknown')
    await rotated(w.wallet.id, w.session.id)
    // Resends of the old bytes go on (answered, then dropped) while the old session is rotating. On a
    // loaded machine (one CI run) the revocation came past 10 s.
    await eventually(async () => { await t.worker.maintainSessions(w.wallet.id); return (await t.r.session(w.session.id)).status === 'revoked' }, 30_000, 250)
    expect(operatorDelegation(t.h.sandbox, w.session.delegationHash)?.revoked).toBe(true)
    t.h.sandbox.setFaults({ dropAfterAccept: 0 })
    const next = (await t.r.sessionsOf(w.wallet.id)).find((s) => s.status === 'active')!
    await checkOneLivePerIntent(w.wallet.id, w.wallet.address, next.delegationHash!, [order])
    signers.delete(w.wallet.address.toLowerCase())
  }, 90_000)

  it('a burst with lost answers and latency across a rotation: one live order per intent, none twice', async () => {
    const w = await activeWallet(t.h, { lifetimeSeconds: 2 * 3600, families: ['Order', 'CancelOrder', 'CancelAll'] })
    signers.set(w.wallet.address.toLowerCase(), w.signer)
    t.h.sandbox.setFaults({ dropAfterAccept: 0.4, latencyMs: 50 })
    const placed: OrderRow[] = []
    const placing = (async () => {
      for (let i = 0; i < 20; i++) {
        placed.push(await place(t.h, t.worker, w.wallet.id, { price: formatAmount(parseAmount('p', '1800') + BigInt(i) * 10n ** 18n) }))
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })()
    await new Promise((resolve) => setTimeout(resolve, 60))
    await rotated(w.wallet.id, w.session.id)
    await placing
    // As above, with more resends under way: up to 30 s on a loaded machine.
    await eventually(async () => { await t.worker.maintainSessions(w.wallet.id); return (await t.r.session(w.session.id)).status === 'revoked' }, 30_000, 250)
    t.h.sandbox.setFaults({ dropAfterAccept: 0, latencyMs: 0 })
    const next = (await t.r.sessionsOf(w.wallet.id)).find((s) => s.status === 'active')!
    await checkOneLivePerIntent(w.wallet.id, w.wallet.address, next.delegationHash!, placed)
    signers.delete(w.wallet.address.toLowerCase())
  }, 90_000)
})
