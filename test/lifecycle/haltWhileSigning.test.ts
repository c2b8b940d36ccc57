/**
 * A halt that commits after a placement was claimed and before it was signed: the placement is
 * never signed nor sent. The claim checked the wallet before the halt; the halt cancelled only
 * the pending orders and answered; the worker then signed and sent the claimed order, which the
 * operator placed (and a crossing one filled) while the wallet was halted. Found by the drill's
 * kill switches (two workers: two crossing orders signed 60 ms after the halt, both filled).
 * The local policy check, which runs between the claim and the signature, trips the kill switch
 * here, in the batched path (jobs running together) and one by one (a rate limit's retry goes there).
 */
import { eq, sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { haltWallet } from '../../src/runtime/intake/killSwitch.js'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { lockWalletToHalt } from '../../src/store/repositories/lockWallet.js'
import { wallets } from '../../src/store/schema/index.js'
import { activeWallet, eventually, operatorOrder, operatorOrders, place, settled } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

/** Wallets whose kill switch the policy check trips (once) while their work of `trippingOn` is being checked. */
const tripping = new Set<string>()
let trippingOn = 'Order'

const t = workerForFile({
  policy: async ({ walletId, family }) => {
    if (family === trippingOn && tripping.delete(walletId)) await haltWallet(t.h.db, { walletId, reason: 'tripped while the placement was being signed' })
    return null
  },
})

describe('a halt between the claim and the signature', () => {
  it('stops the placement: nothing signed or sent, the order cancelled as halted', async () => {
    const w = await activeWallet(t.h)
    tripping.add(w.wallet.id)
    // Crossing: sent, it would fill at once.
    const order = await place(t.h, t.worker, w.wallet.id, { price: '2100', size: '0.01' })
    const cancelled = await settled(t.h.db, order.id, 'cancelled', 'filled', 'open', 'partially_filled')
    expect(tripping.has(w.wallet.id)).toBe(false)
    expect(operatorOrders(t.h.sandbox, w.wallet.address)).toEqual([])
    expect(cancelled).toMatchObject({ state: 'cancelled', cancelReason: 'halted' })
    expect((await t.r.requestsOfWallet(w.wallet.id)).filter((q) => q.family === 'Order')).toEqual([])
    await eventually(async () => (await t.r.outboxOfWallet(w.wallet.id)).find((o) => o.kind === 'Order' && o.status === 'done'))
  })

  it('stops a modification the same way (one by one): not signed, not applied', async () => {
    const w = await activeWallet(t.h)
    const order = await place(t.h, t.worker, w.wallet.id, { price: '1900', size: '0.01' })
    await settled(t.h.db, order.id, 'open')
    trippingOn = 'ModifyOrder'
    tripping.add(w.wallet.id)
    // Through the mark: sent, it would fill at once.
    const { outboxId } = await requestModify(t.h.db, t.worker.markets, { orderId: order.id, price: '2100', size: '0.02' })
    await t.worker.relay()
    const row = await eventually(async () => (await t.r.outboxOfWallet(w.wallet.id)).find((o) => o.id === outboxId && o.status === 'done'))
    expect(tripping.has(w.wallet.id)).toBe(false)
    expect(row.lastError).toBe('wallet halted: modification not applied')
    expect((await t.r.requestsOfWallet(w.wallet.id)).filter((q) => q.family === 'ModifyOrder')).toEqual([])
    expect(operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ revision: 0, filled: 0n })
  })
})

/**
 * The ordering itself, between two connections: the statement that persists signed placements
 * (`insertSignedRequests`) reads which wallets are halted through `deputy_halted_wallets`, which
 * waits for a halt under way and then sees it; and a halt waits for such a statement's transaction.
 */
describe('the halt lock', () => {
  /** A promise and the function that resolves it. */
  const signal = (): [Promise<void>, () => void] => {
    let resolve!: () => void
    return [new Promise<void>((r) => { resolve = r }), () => resolve()]
  }
  const haltedNow = async (tx: Parameters<Parameters<typeof t.h.db.transaction>[0]>[0], walletId: string) =>
    (await tx.execute<{ halted: string[] }>(sql`select deputy_halted_wallets(array[${walletId}]::uuid[]) as halted`)).rows[0]!.halted

  it('a read of the halted wallets waits for a halt under way and sees it once committed', async () => {
    const w = await activeWallet(t.h)
    const [haltHeld, commitHalt] = signal()
    const [haltLocked, locked] = signal()
    const halt = t.h.db.transaction(async (tx) => {
      await lockWalletToHalt(tx, w.wallet.id)
      await tx.update(wallets).set({ status: 'halted', haltedReason: 'test' }).where(eq(wallets.id, w.wallet.id))
      locked()
      await haltHeld
    })
    await haltLocked
    let read: string[] | undefined
    const reading = t.h.db.transaction(async (tx) => { read = await haltedNow(tx, w.wallet.id) })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(read).toBeUndefined()
    commitHalt()
    await halt
    await reading
    expect(read).toEqual([w.wallet.id])
  })

  it('a halt waits for a transaction that read the wallet not halted, so it finds what that one persisted', async () => {
    const w = await activeWallet(t.h)
    const [readHeld, commitRead] = signal()
    const [readTaken, readDone] = signal()
    const reading = t.h.db.transaction(async (tx) => {
      expect(await haltedNow(tx, w.wallet.id)).toEqual([])
      readDone()
      await readHeld
    })
    await readTaken
    let halted = false
    const halting = haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'test' }).then(() => { halted = true })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(halted).toBe(false)
    commitRead()
    await reading
    await halting
    expect((await t.r.wallet(w.wallet.id)).status).toBe('halted')
  })
})
