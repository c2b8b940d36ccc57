import { DelayedError, type Job } from 'bullmq'
import { submitCancelAllSpec } from '../../jobs/submitCancelAll.js'
import { submitCancelOrderSpec } from '../../jobs/submitCancelOrder.js'
import { submitModifyOrderSpec } from '../../jobs/submitModifyOrder.js'
import { submitOrderSpec } from '../../jobs/submitOrder.js'
import type { RequestFamily } from '../core/acl/actions.js'
import type { SubmitJobData } from '../queue/payloads.js'
import type { WorkerDeps } from './deps.js'
import { createBatchedOrders } from './submission/createBatchedOrders.js'
import { type JobControl, runSubmission } from './submission/runSubmission.js'
import type { FamilySpec, SubmitResult } from './submission/types.js'

const specs: { [F in RequestFamily]: FamilySpec<F> } = {
  Order: submitOrderSpec,
  ModifyOrder: submitModifyOrderSpec,
  CancelOrder: submitCancelOrderSpec,
  CancelAll: submitCancelAllSpec,
}

/** The `submit` queue's processor: the job name is the request family. */
export function createSubmitProcessor(deps: WorkerDeps) {
  // Orders go through the batched path, which hands anything it does not handle to `runSubmission`.
  const submitOrder = createBatchedOrders(deps, submitOrderSpec)
  return async (job: Job<SubmitJobData>, token?: string): Promise<SubmitResult> => {
    const spec = specs[job.data.family] as FamilySpec<RequestFamily> | undefined
    if (!spec) throw new Error(`unknown request family ${String(job.data.family)}`)
    const control: JobControl = {
      async delay(ms) {
        await job.moveToDelayed(Date.now() + ms, token)
        throw new DelayedError()
      },
    }
    if (job.data.family === 'Order') return submitOrder(job.data.outboxId, control)
    return runSubmission(deps, job.data.outboxId, spec, control)
  }
}

/** Retry delays: exponential from 100 ms, capped at 5 s, with full jitter. */
export function submitBackoff(attemptsMade: number): number {
  const cap = Math.min(5_000, 100 * 2 ** Math.min(attemptsMade, 16))
  return Math.floor(cap / 2 + (Math.random() * cap) / 2)
}
