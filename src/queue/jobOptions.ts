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
