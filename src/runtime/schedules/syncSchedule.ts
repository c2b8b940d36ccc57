import type { JobSchedulerTemplateOptions } from 'bullmq'
import { controlJobs } from '../../queue/names.js'
import type { ScheduleRow } from '../../store/schema/index.js'
import type { ScheduleRunJobData, SchedulerQueue } from './types.js'

/**
 * Run jobs retry a few times (a venue read timing out, Postgres failing over);
 * a run that keeps failing is recorded `failed` and the next slot starts afresh.
 * Finished jobs stay an hour for Bull Board, then go.
 */
export const scheduleRunJobOptions: JobSchedulerTemplateOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600 },
}

export type SyncScheduleResult = 'upserted' | 'unchanged' | 'removed'

/**
 * The one place a schedule's BullMQ job scheduler is written: an active schedule
 * gets a scheduler whose id is the schedule id (cron + IANA zone, producing
 * `scheduleRun` jobs); a paused or deleted one has none. Idempotent: a scheduler
 * already on the same cron and zone is left alone, so its pending slot keeps its job.
 */
export async function syncSchedule(queue: SchedulerQueue, schedule: Pick<ScheduleRow, 'id' | 'status' | 'cron' | 'timeZone'>): Promise<SyncScheduleResult> {
  if (schedule.status !== 'active') {
    await queue.removeJobScheduler(schedule.id)
    return 'removed'
  }
  const existing = await queue.getJobScheduler(schedule.id)
  if (existing && existing.name === controlJobs.scheduleRun && existing.pattern === schedule.cron && existing.tz === schedule.timeZone) return 'unchanged'
  const data: ScheduleRunJobData = { scheduleId: schedule.id }
  await queue.upsertJobScheduler(schedule.id, { pattern: schedule.cron, tz: schedule.timeZone }, { name: controlJobs.scheduleRun, data, opts: scheduleRunJobOptions })
  return 'upserted'
}
