/**
 * Against an operator whose OrderModified carries no fields (PROTOCOL.md §7, the sandbox's
 * protocolEventData), a modify the operator accepted just before the session was revoked, whose
 * values Postgres does not hold yet (no receipt stored, no read-back), is the replacement's price
 * and size: the replacement reads the cancelled order back before it is placed. One the operator
 * refused is not applied.
 */
import type { Hex } from 'viem'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { RunningWorker } from '../../src/worker.js'
import { activeWallet, eventually, grant, openWithSession, operatorOrder, place, rows, settled } from '../lifecycle/support/lifecycle.js'
import { type Harness, createHarness } from './support/harness.js'
import { revokeBehindTheWorkersBack, sendWithSessionKey } from './support/operator.js'

let h: Harness
let worker: RunningWorker
let r: ReturnType<typeof rows>
beforeAll(async () => {
  h = await createHarness()
  h.sandbox.setFaults({ protocolEventData: true })
  r = rows(h.db)
  worker = await h.startWorker({ walletSignerFor: () => undefined, maintenanceIntervalMs: 3_600_000 })
})
afterAll(async () => { await h?.close() })

const E18 = 10n ** 18n

it('a modify accepted just before the session is revoked is the replacement\'s price and size; one refused is not', async () => {
  const w = await activeWallet(h)
  const order = await place(h, worker, w.wallet.id)
  await settled(h.db, order.id, 'open')
  // The wallet's event stream is open.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const modify = (price: bigint, size: bigint) => sendWithSessionKey(worker.deps, w.wallet.id, 'ModifyOrder', { market: 'ETH-USD', clientOrderId: order.clientOrderId as Hex, price, size })
  expect((await modify(1910n * E18, E18 / 5n)).status).toBe(200)
  // Off the tick: refused, it changes nothing at the operator.
  expect((await modify(1915005n * 10n ** 15n, E18 / 2n)).status).not.toBe(200)
  expect((await revokeBehindTheWorkersBack(worker.deps, w.wallet.id)).status).toBe(200)
  const replacedBy = await eventually(async () => (await r.order(order.id)).replacedBy)
  expect((await r.order(order.id)).cancelReason).toBe('sessionRevoked')

  // The replacement waits for a session, then goes out at the operator's values of the cancelled order.
  const { session } = await grant(h, w)
  const replacement = await openWithSession(h.db, replacedBy)
  expect([replacement.price, replacement.size, replacement.sessionId]).toEqual(['1910.000000000000000000', '0.200000000000000000', session.id])
  expect(operatorOrder(h.sandbox, w.wallet.address, replacement.clientOrderId)).toMatchObject({ price: 1910n * E18, size: E18 / 5n })
  // Read back once: the mark is gone from the Order's payload.
  const placed = (await r.outboxOfWallet(w.wallet.id)).find((o) => o.orderId === replacedBy && o.kind === 'Order')
  expect(placed?.payload).toEqual({ replaces: order.id })
})
