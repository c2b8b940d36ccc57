import type { RequestFamily } from '../core/acl/actions.js'

/**
 * A submission job. Its BullMQ job id is the outbox row id, so a row relayed
 * twice (two relays, or a sweep after Redis lost the job) collapses into one job.
 */
export type SubmitJobData = {
  outboxId: string
  walletId: string
  family: RequestFamily
  /** The order the request targets; absent for CancelAll. */
  orderId?: string
}

export type ReconcileJobData = { walletId?: string; reason: 'startup' | 'scheduled' | 'manual' }
