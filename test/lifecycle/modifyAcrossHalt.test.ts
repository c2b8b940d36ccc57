/**
 * A modify queued before the kill switch tripped is dropped by the halt: it does not go out after
 * the wallet resumes either, as a placement queued before the halt does not (the halt's CancelAll
 * marks the halt, whatever became of it).
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { outboxJobId } from '../../src/store/repositories/outboxRepo.js'
import type { RunningWorker } from '../../src/worker.js'
import { createHarness, type Harness } from '../worker/support/harness.js'
import { activeWallet, eventually, operatorOrder, place, rows, settled } from './support/lifecycle.js'

let h: Harness
let worker: RunningWorker
let r: ReturnType<typeof rows>

beforeAll(async () => {
  h = await createHarness()
  r = rows(h.db)
  worker = await h.startWorker()
})
afterAll(async () => {
  await h?.close()
})

it('a modify queued before a halt is not sent after the resume', async () => {
  // A scope with no cancel: the halt's CancelAll is refused here, and the wallet may resume at once.
  const w = await activeWallet(h, { families: ['Order', 'ModifyOrder'] })
  const order = await place(h, worker, w.wallet.id)
  await settled(h.db, order.id, 'open')
  worker.deps.rateLimits.pause(w.session.id, 3_000) // the modify waits its turn (a 429's Retry-After)
  const { outboxId } = await requestModify(h.db, worker.markets, { orderId: order.id, price: '1890', size: '5' })
  await worker.relay()
  // Its job has run once and waits out the rate limit (delayed in BullMQ), nothing signed for it.
  const [row] = (await r.outboxOf(order.id)).filter((o) => o.id === outboxId)
  await eventually(async () => (await (await worker.submitQueue.getJob(outboxJobId(row!)))?.getState()) === 'delayed')
  expect((await r.requestsOf(order.id)).map((q) => q.family)).toEqual(['Order'])
  const halt = await haltWallet(h.db, { walletId: w.wallet.id, reason: 'stop' })
  await worker.relay()
  await eventually(async () => (await r.outboxOfWallet(w.wallet.id)).find((o) => o.id === halt.outboxId && o.status === 'failed'))
  await resumeWallet(h.db, { walletId: w.wallet.id })

  const modify = await eventually(async () => (await r.outboxOf(order.id)).find((o) => o.id === outboxId && o.status === 'done'), 15_000)
  expect(modify.lastError).toBe('wallet halted: modification not applied')
  expect((await r.requestsOf(order.id)).map((q) => q.family)).toEqual(['Order'])
  expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'open', size: 10n ** 17n, revision: 0 })
}, 30_000)
