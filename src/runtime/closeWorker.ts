import type { Queue, Worker } from 'bullmq'
import type { Logger } from 'pino'
import { dropBlockingConnection } from '../queue/dropBlockingConnection.js'
import { pendingAfter } from './pendingAfter.js'

/** What a running worker stops, in the order `closeWorker` stops it. */
export type WorkerParts = {
  log: Logger
  /** Aborted first: the runs going wallet by wallet start no further wallet (`deps.stopping`). */
  shutdown: AbortController
  /** Stops the loops and workers, after the abort; each by name (the log names those still pending). */
  loops: () => Record<string, Promise<unknown> | undefined>
  workers: Worker[]
  /** How many jobs still run (`jobsInProgress`). */
  jobs: { readonly running: number }
  queues: Queue[]
  /** Stops the alerts' webhook retries (`AlertSink.close`); resolves once their deliveries ended. */
  closeAlerts: () => Promise<void>
  closeRedis: () => Promise<void>
}

/**
 * Stops taking work, lets in-flight jobs finish within `timeoutMs`, and closes the queues and Redis.
 * Answers whether the jobs finished; false: jobs were left running (waiting on a hanging Postgres or
 * operator), to be re-run, and the process should exit saying so.
 */
export async function closeWorker(parts: WorkerParts, timeoutMs: number): Promise<boolean> {
  parts.shutdown.abort(new Error('worker stopping'))
  const pending = await pendingAfter(parts.loops(), timeoutMs)
  // Jobs still running are abandoned (BullMQ re-runs one it has not recorded finished once its lock
  // lapses): the stop is forced. A loop's run still waiting (for Redis or Postgres) is not work
  // left behind: the next worker's runs do the same, nor is BullMQ's close waiting with no job
  // for a blocking connection that never ends (dropBlockingConnection).
  const jobsLeft = parts.jobs.running
  if (pending.length) {
    parts.log.warn({ timeoutMs, pending, jobsLeft }, 'shutdown timed out; unfinished jobs will be re-run by another worker')
    for (const worker of parts.workers) dropBlockingConnection(worker)
  }
  // An alert's delivery waiting to retry its webhook gives up now (its next occurrence goes out).
  // Past the budget, one still under way (its audit row, its POST) is not waited for: it was logged when raised.
  const alertsClosed = parts.closeAlerts()
  await Promise.all([...parts.queues.map((queue) => queue.close()), pending.length ? undefined : alertsClosed])
  await parts.closeRedis()
  return jobsLeft === 0
}
