/**
 * Counts the jobs of the processors wrapped with `count` that have started and not yet ended:
 * BullMQ does not say how many its workers run, and a stopping worker must tell a close that waits
 * for jobs from one that waits only for a dead connection.
 */
export function jobsInProgress() {
  let running = 0
  return {
    get running(): number { return running },
    count<Args extends unknown[], Result>(processor: (...args: Args) => Promise<Result>): (...args: Args) => Promise<Result> {
      return async (...args) => {
        running++
        try {
          return await processor(...args)
        } finally {
          running--
        }
      }
    },
  }
}
