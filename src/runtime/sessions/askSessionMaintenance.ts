import type { Queue } from 'bullmq'
import type { Logger } from 'pino'
import { controlJobOptions } from '../../queue/jobOptions.js'
import { controlJobs } from '../../queue/names.js'

/** How long a refused session's caller waits for Redis to take its maintenance job. */
export const MAINTENANCE_ASK_WAIT_MS = 3_000

/**
 * Queues a session maintenance run for the wallet now (deduplicated by `key`, in the job id) rather
 * than at the next periodic one. Waited for `MAINTENANCE_ASK_WAIT_MS` at most: while Redis is down
 * the add waits for it (and goes in once it is back), and the caller must go on — the cancel lane
 * sends every wallet's cancels and kill switches one after another. The periodic run does the same
 * work if the add never lands; a failed add is logged, never thrown.
 */
export async function askSessionMaintenance(controlQueue: Pick<Queue, 'add'>, log: Logger, walletId: string, key: string): Promise<void> {
  const asked = controlQueue.add(controlJobs.maintainSessions, { walletId, reason: 'manual' }, { ...controlJobOptions, jobId: `maintain-${walletId}-${key}` })
    .then(() => undefined, (error: unknown) => log.warn({ err: error, walletId }, 'could not queue session maintenance; the periodic run does it'))
  let timer: NodeJS.Timeout | undefined
  await Promise.race([asked, new Promise<void>((resolve) => { timer = setTimeout(resolve, MAINTENANCE_ASK_WAIT_MS) })])
  clearTimeout(timer)
}
