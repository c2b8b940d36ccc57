/**
 * A halt's CancelAll under a session whose scope has CancelOrder but not CancelAll is claimed by
 * queueing a CancelOrder per live order instead. The cancel lane runs an overdue halt's CancelAll
 * beside its job, and both runs loaded the row while it was still queued: the second claim queued
 * every CancelOrder (and audited `CancelAll.oneByOne`) again. Its claim now locks the row first and,
 * finding it settled by the other run, records nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { submitCancelAllSpec } from '../../jobs/submitCancelAll.js'
import { haltWallet } from '../../src/runtime/intake/killSwitch.js'
import { claimOrSettle } from '../../src/runtime/submission/claim.js'
import { loadSubmitContext } from '../../src/runtime/submission/loadSubmitContext.js'
import type { RunningWorker } from '../../src/worker.js'
import type { Harness } from './support/harness.js'
import type { rows } from './support/rows.js'
import { failOnDelay, openOrder, stoppedWorkerHarness } from './support/stoppedWorker.js'

let h: Harness
let db: ReturnType<typeof rows>
let dead: RunningWorker
beforeAll(async () => { ({ h, db, dead } = await stoppedWorkerHarness()) })
afterAll(async () => { await h?.close() })

it('a halt\'s CancelAll claimed by two runs queues its one-by-one cancels once', async () => {
  const { wallet } = await h.wallet(['Order', 'CancelOrder'])
  const order = await openOrder(h, dead, wallet.id)
  const { outboxId } = await haltWallet(h.db, { walletId: wallet.id, reason: 'test' })
  // Both runs load the row while it is queued.
  const first = (await loadSubmitContext(dead.deps, outboxId))!
  const second = (await loadSubmitContext(dead.deps, outboxId))!

  expect(await claimOrSettle(first, submitCancelAllSpec, failOnDelay)).toEqual({ kind: 'settled', result: { result: 'done', reason: expect.stringContaining('1 CancelOrder(s) queued instead') } })
  expect(await claimOrSettle(second, submitCancelAllSpec, failOnDelay)).toEqual({ kind: 'settled', result: { result: 'done', reason: 'outbox done by another run' } })

  expect((await db.outboxOf(order.id)).filter((row) => row.kind === 'CancelOrder')).toHaveLength(1)
  expect(await db.audit(wallet.id, 'CancelAll.oneByOne')).toHaveLength(1)
  expect(await db.audit(wallet.id, 'CancelAll.skipped')).toHaveLength(1)
})
