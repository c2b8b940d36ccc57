import type { JobsOptions } from 'bullmq'

/**
 * Submission jobs retry with a capped, jittered backoff (the worker's
 * `settings.backoffStrategy`) and stay in Redis for a day after they finish,
 * so a relay or sweep that adds the same job id again is deduplicated.
 */
export const submitJobOptions: JobsOptions = {
  attempts: 40,
  backoff: { type: 'custom' },
  removeOnComplete: { age: 24 * 3600, count: 200_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
}

/**
 * The control queue's housekeeping jobs (the periodic reconciliation and session maintenance, and
 * a maintenance run asked for when the operator refuses a session) stay an hour after they finish
 * (Bull Board) and a week after they fail, then go. BullMQ keeps a finished job forever by
 * default, and these fire without end (over 11,000 a day): Redis would grow until it refused writes.
 */
export const controlJobOptions = {
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} satisfies JobsOptions
