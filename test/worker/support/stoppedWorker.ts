/**
 * Runs of one job by the test itself, on a stopped worker's adapters (`runSubmission` with its
 * deps; no loops or processors run): the steps the resend tests share.
 */
import { expect } from 'vitest'
import { submitModifyOrderSpec } from '../../../jobs/submitModifyOrder.js'
import { submitOrderSpec } from '../../../jobs/submitOrder.js'
import { placeLimitOrder } from '../../../src/runtime/intake/placeLimitOrder.js'
import { requestModify } from '../../../src/runtime/intake/requestOrderChange.js'
import { runSubmission } from '../../../src/runtime/submission/runSubmission.js'
import type { Faults } from '../../../src/sandbox/faults.js'
import type { RunningWorker } from '../../../src/worker.js'
import { type Harness, createHarness } from './harness.js'
import { rows } from './rows.js'

/** A job's control that fails the run instead of delaying it. */
export const failOnDelay = { delay: async (ms: number): Promise<never> => { throw new Error(`delayed ${ms} ms`) } }

/** A resting ETH-USD buy (1990 × 0.5) of the wallet, written at intake: its placement not run. */
export async function restingOrder(h: Harness, dead: RunningWorker, walletId: string) {
  const { order } = await placeLimitOrder(h.db, dead.markets, { walletId, market: 'ETH-USD', side: 'buy', price: '1990', size: '0.5' }, new Date())
  return { order, placementId: (await rows(h.db).outboxOf(order.id))[0]!.id }
}

/** `restingOrder`, placed (its placement run and accepted). */
export async function openOrder(h: Harness, dead: RunningWorker, walletId: string) {
  const { order, placementId } = await restingOrder(h, dead, walletId)
  expect((await runSubmission(dead.deps, placementId, submitOrderSpec, failOnDelay)).result).toBe('accepted')
  return order
}

/** Runs `outboxId`'s job once with `fault` on every request (`dropAfterAccept`: taken, its answer lost; `errorRate`: a 503): the run throws. */
export async function runFailing(h: Harness, dead: RunningWorker, outboxId: string, fault: keyof Pick<Faults, 'dropAfterAccept' | 'errorRate'>, spec: Parameters<typeof runSubmission>[2] = submitModifyOrderSpec) {
  h.sandbox.setFaults({ [fault]: 1 })
  try {
    // With the fault's error: the connection closed without an answer, or the operator's injected 503.
    const heard = fault === 'dropAfterAccept' ? 'POST /v1/requests: no response from the operator' : 'injected fault: operator unavailable, retry'
    await expect(runSubmission(dead.deps, outboxId, spec, failOnDelay)).rejects.toThrow(heard)
  } finally {
    h.sandbox.setFaults({ [fault]: 0 })
  }
}

/** A modify of the order to 1985 × 0.6, its job run once with `fault` (see `runFailing`). */
export async function modifyFailing(h: Harness, dead: RunningWorker, orderId: string, fault: Parameters<typeof runFailing>[3]) {
  const { outboxId } = await requestModify(h.db, dead.markets, { orderId, price: '1985', size: '0.6' })
  await runFailing(h, dead, outboxId, fault)
  return outboxId
}

/** A harness and a worker started and stopped on it: its adapters remain, its loops and processors do not run. */
export async function stoppedWorkerHarness(options: Parameters<typeof createHarness>[0] = {}) {
  const h = await createHarness(options)
  const dead = await h.startWorker({ streams: false })
  await dead.close()
  return { h, db: rows(h.db), dead }
}
