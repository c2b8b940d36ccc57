/**
 * A modify queued before the kill switch tripped is dropped by the halt: it does not go out after
 * the wallet resumes either, as a placement queued before the halt does not (the halt's CancelAll
 * marks the halt, whatever became of it).
 */
import { expect, it } from 'vitest'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
import { requestModify } from '../../src/runtime/intake/requestOrderChange.js'
import { outboxJobId } from '../../src/store/repositories/outboxRepo.js'
import { activeWallet, eventually, operatorOrder, place, settled } from './support/lifecycle.js'
import { workerForFile } from './support/workerForFile.js'

const t = workerForFile()

it('a modify queued before a halt is not sent after the resume', async () => {
  // A scope with no cancel: the halt's CancelAll is refused here, and the wallet may resume at once.
  const w = await activeWallet(t.h, { families: ['Order', 'ModifyOrder'] })
  const order = await place(t.h, t.worker, w.wallet.id)
  await settled(t.h.db, order.id, 'open')
  t.worker.deps.rateLimits.pause(w.session.id, 3_000) // the modify waits its turn (a 429's Retry-After)
  const { outboxId } = await requestModify(t.h.db, t.worker.markets, { orderId: order.id, price: '1890', size: '5' })
  await t.worker.relay()
  // Its job has run once and waits out the rate limit (delayed in BullMQ), nothing signed for it.
  const [row] = (await t.r.outboxOf(order.id)).filter((o) => o.id === outboxId)
  await eventually(async () => (await (await t.worker.submitQueue.getJob(outboxJobId(row!)))?.getState()) === 'delayed')
  expect((await t.r.requestsOf(order.id)).map((q) => q.family)).toEqual(['Order'])
  const halt = await haltWallet(t.h.db, { walletId: w.wallet.id, reason: 'stop' })
  await t.worker.relay()
  await eventually(async () => (await t.r.outboxOfWallet(w.wallet.id)).find((o) => o.id === halt.outboxId && o.status === 'failed'))
  await resumeWallet(t.h.db, { walletId: w.wallet.id })

  const modify = await eventually(async () => (await t.r.outboxOf(order.id)).find((o) => o.id === outboxId && o.status === 'done'), 15_000)
  expect(modify.lastError).toBe('wallet halted: modification not applied')
  expect((await t.r.requestsOf(order.id)).map((q) => q.family)).toEqual(['Order'])
  expect(operatorOrder(t.h.sandbox, w.wallet.address, order.clientOrderId)).toMatchObject({ status: 'open', size: 10n ** 17n, revision: 0 })
}, 30_000)
