/** What a run started while the previous one was still going answers. */
export type SkippedRun = { skipped: string }

/**
 * A periodic run (session maintenance, reconciliation of every wallet) started while this process's
 * previous one is still going is skipped, not started beside it. The job scheduler starts the next
 * run after each period however long the last takes: with a dependency hanging (the custody signer,
 * a minute per call with its retries), runs piled up, each blocked further on, until they held every
 * control slot and no reconciliation or rebalancing run could start.
 */
export function oneRunAtATime<T>(run: () => Promise<T>): () => Promise<T | SkippedRun> {
  let running = false
  return async () => {
    if (running) return { skipped: 'the previous run in this process is still going' }
    running = true
    try {
      return await run()
    } finally {
      running = false
    }
  }
}
