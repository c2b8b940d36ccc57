/**
 * A wallet whose session can neither CancelAll nor CancelOrder (the user chose Order and
 * ModifyOrder). A placement queued before the halt (waiting out a rate limit) does not go out after
 * the wallet is halted and resumed, although the halt's CancelAll was refused locally: a halt's
 * CancelAll marks the halt whatever became of it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { haltWallet, resumeWallet } from '../../src/runtime/intake/killSwitch.js'
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

it('a placement queued before the halt is not sent after the resume', async () => {
  const w = await activeWallet(h, { families: ['Order', 'ModifyOrder'] })
  worker.deps.rateLimits.pause(w.session.id, 3_000) // as after a 429 with Retry-After: 3
  const order = await place(h, worker, w.wallet.id)
  await settled(h.db, order.id, 'submitting')
  const { outboxId } = await haltWallet(h.db, { walletId: w.wallet.id, reason: 'stop' })
  await worker.relay()
  // The halt's CancelAll cannot be signed under this scope: refused here, and the wallet may resume.
  await eventually(async () => (await r.outboxOfWallet(w.wallet.id)).find((o) => o.id === outboxId && o.status === 'failed'))
  await resumeWallet(h.db, { walletId: w.wallet.id })
  await new Promise((resolve) => setTimeout(resolve, 5_000))
  expect(operatorOrder(h.sandbox, w.wallet.address, order.clientOrderId)).toBeUndefined()
}, 60_000)
