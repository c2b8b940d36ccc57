import { controlJobs } from '../../../src/queue/names.js'
import type { RunningWorker } from '../../../src/worker.js'
import { eventually } from './harness.js'

/**
 * Stops a started worker's periodic reconciliation, for a test in which only the runs it asks for
 * reconcile, however long it runs: its job scheduler is removed, and this waits until no reconcile
 * job of it is left to run (its first is due a period after the worker's start, `upsertWorkerSchedulers`,
 * then one every period). Any worker on the same prefix that starts later writes the scheduler again.
 */
export async function stopPeriodicReconcile({ controlQueue }: Pick<RunningWorker, 'controlQueue'>): Promise<void> {
  await controlQueue.removeJobScheduler(controlJobs.reconcile)
  await eventually(async () => !(await controlQueue.getJobs(['waiting', 'active', 'delayed', 'prioritized'])).some((job) => job.name === controlJobs.reconcile))
}
