/**
 * A user's modify that the operator took but whose answer was lost, then the session was revoked
 * (its orders cancelled): the replacement is placed at the modify's price and size, the user's last
 * ask, even when the operator's read of the cancelled order cannot be applied (READ_UNAPPLIABLE).
 * At the values held here from before the modify, it would trade at a price the user had moved away
 * from before the modify, following it there, could change it. Events carry only PROTOCOL.md §7's
 * fields (an OrderModified says nothing of the price or size). A live worker, streams on.
 */
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { events } from '../../src/store/schema/index.js'
import { activeWallet, eventually, grant, operatorOrder, place, rows, settled } from '../lifecycle/support/lifecycle.js'
import { type Harness, createHarness } from './support/harness.js'
import { revokeBehindTheWorkersBack } from './support/operator.js'
import { routeSendsThroughProxy } from './support/submitProxy.js'

let h: Harness
beforeAll(async () => {
  h = await createHarness()
  h.sandbox.setFaults({ protocolEventData: true })
})
afterAll(async () => { await h?.close() })

const E18 = 10n ** 18n

it('a modify whose answer was lost before its session was revoked: the replacement goes out at its price and size, though the read back is malformed', async () => {
  const alerts: { walletId: string; code: string }[] = []
  const worker = await h.startWorker({ walletSignerFor: () => undefined, maintenanceIntervalMs: 3_600_000, alert: (event) => { alerts.push(event) } })
  // The operator takes each ModifyOrder while this is set, and its answer never comes back.
  let loseModifyAnswers = true
  const proxy = await routeSendsThroughProxy(worker, h.sandbox.url, async (send, upstream) => {
    const answer = await upstream()
    return send.family === 'ModifyOrder' && loseModifyAnswers ? 'drop' : answer
  })
  const r = rows(h.db)
  try {
    const w = await activeWallet(h)
    const order = await place(h, worker, w.wallet.id, { price: '1990', size: '0.5' })
    await settled(h.db, order.id, 'open')
    const cloid = order.clientOrderId.toLowerCase()
    await eventually(async () => (await h.db.select().from(events).where(eq(events.walletId, w.wallet.id))).length > 0)

    // From here the operator's reads of the order cannot be applied.
    h.sandbox.setFaults({ readOverrides: { [cloid]: { filled: '-0.1' } } })
    // The user lowers the buy to 1970; the operator takes it, its answer is lost.
    await requestModify(h.db, worker.markets, { orderId: order.id, price: '1970', size: '0.5' })
    await worker.relay()
    await eventually(async () => operatorOrder(h.sandbox, w.wallet.address, cloid)?.price === 1970n * E18)
    await eventually(async () => (await r.requestsOf(order.id)).some((q) => q.family === 'ModifyOrder' && q.status === 'unknown'))

    // The session is revoked: the order is cancelled and placed again, once its cancelled self is read back.
    expect((await revokeBehindTheWorkersBack(worker.deps, w.wallet.id)).status).toBe(200)
    const replacedBy = await eventually(async () => (await r.order(order.id)).replacedBy)
    expect((await r.outboxOf(replacedBy))[0]?.payload).toMatchObject({ readBack: true })
    // The mark falls to 1980: a buy at 1990 would fill at once, one at 1970 rests.
    h.sandbox.setMark('ETH-USD', '1980')
    loseModifyAnswers = false
    await grant(h, w)

    // The replacement is live at the user's 1970 and size, and never traded at 1990.
    const replacement = await eventually(async () => {
      const row = await r.order(replacedBy)
      const work = await r.outboxOfWallet(w.wallet.id)
      return ['open', 'filled', 'partially_filled'].includes(row.state) && work.every((o) => o.status === 'done' || o.status === 'failed') && row
    }, 20_000)
    expect(alerts.some((a) => a.walletId === w.wallet.id && a.code === 'READ_UNAPPLIABLE')).toBe(true)
    const there = operatorOrder(h.sandbox, w.wallet.address, replacement.clientOrderId)
    expect({ status: there?.status, price: there?.price, size: there?.size, filled: there?.filled }).toEqual({ status: 'open', price: 1970n * E18, size: E18 / 2n, filled: 0n })
    expect(await r.fillsOf(replacedBy)).toEqual([])
    expect([replacement.state, Number(replacement.price), Number(replacement.size)]).toEqual(['open', 1970, 0.5])
  } finally {
    h.sandbox.setFaults({ readOverrides: {} })
    await proxy.close()
    await worker.close()
  }
})
