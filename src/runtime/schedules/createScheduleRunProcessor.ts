import { DelayedError, type Job, UnrecoverableError } from 'bullmq'
import { and, eq } from 'drizzle-orm'
import { type RunScheduleResult, runSchedule } from '../../../jobs/runSchedule.js'
import { scheduleRuns } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import { finishRun } from './run/finishRun.js'
import type { ScheduleRunJobData, SchedulerQueue } from './types.js'
import { errorMessage } from '../../core/errors/errorMessage.js'

export type ScheduleRunProcessorOptions = Pick<Parameters<typeof runSchedule>[1], 'settleTimeoutMs' | 'staleRunMs' | 'pollMs' | 'feeReserveBps' | 'maxLatenessMs'>

/**
 * The slot a job stands for. BullMQ stamps a scheduler's job with the time it
 * was scheduled for (`opts.prevMillis`, and the job id `repeat:<id>:<ms>`); a job
 * added by hand stands for the moment it was added.
 */
function jobSlot(job: Job): number {
  const prev = job.opts.prevMillis
  if (typeof prev === 'number' && Number.isSafeInteger(prev)) return prev
  const match = /^repeat:.+:(\d+)$/.exec(job.id ?? '')
  return match ? Number(match[1]) : job.timestamp
}

function isRetryable(error: unknown): boolean {
  // Crosses a process boundary in spirit (BullMQ): check the shape, not instanceof.
  return !(typeof error === 'object' && error !== null && 'retryable' in error && error.retryable === false)
}

/** The control queue's `scheduleRun` processor: adapts a BullMQ job to `runSchedule`. */
export function createScheduleRunProcessor(deps: WorkerDeps, queue: SchedulerQueue, options: ScheduleRunProcessorOptions = {}) {
  return async (job: Job, token?: string): Promise<RunScheduleResult> => {
    const data = job.data as Partial<ScheduleRunJobData> | undefined
    if (typeof data?.scheduleId !== 'string') throw new UnrecoverableError(`scheduleRun job ${job.id ?? '?'} has no scheduleId`)
    const jobId = job.id ?? `${data.scheduleId}:${jobSlot(job)}`
    try {
      return await runSchedule(deps, {
        ...options,
        scheduleId: data.scheduleId,
        jobSlot: jobSlot(job),
        jobId,
        queue,
        control: {
          async delay(ms) {
            await job.moveToDelayed(Date.now() + ms, token)
            throw new DelayedError()
          },
        },
      })
    } catch (error) {
      if (error instanceof DelayedError) throw error
      const retryable = isRetryable(error)
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1)
      if (!retryable || lastAttempt) {
        const message = errorMessage(error)
        const [run] = await deps.db.select({ id: scheduleRuns.id }).from(scheduleRuns)
          .where(and(eq(scheduleRuns.scheduleId, data.scheduleId), eq(scheduleRuns.jobId, jobId), eq(scheduleRuns.status, 'running')))
        if (run) await finishRun(deps.db, run.id, { status: 'failed', reason: 'error', error: message, now: deps.now() })
        deps.log.error({ scheduleId: data.scheduleId, jobId, err: error }, 'schedule run failed')
        if (!retryable) throw new UnrecoverableError(message)
      }
      throw error
    }
  }
}
