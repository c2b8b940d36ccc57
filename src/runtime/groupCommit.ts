/**
 * Group commit: each caller hands over one item and gets its own answer, while
 * the items are written together. One run is in flight at a time; items that
 * arrive meanwhile wait for it and go together in the next run (at most `max`),
 * so batches grow with load and an idle worker pays one event-loop turn.
 * A run that throws or rejects rejects every item of that run (callers fall back one by one).
 */
export function groupCommit<T, R>(run: (items: T[]) => Promise<R[]>, max = 128): (item: T) => Promise<R> {
  type Waiting = { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }
  let queue: Waiting[] = []
  let running = false
  let scheduled = false

  const next = (): void => {
    scheduled = false
    if (running || queue.length === 0) return
    const taken = queue.slice(0, max)
    queue = queue.slice(taken.length)
    running = true
    // A run that throws before its promise (a bug, a bad argument) rejects its items like one that rejects.
    new Promise<R[]>((resolve) => resolve(run(taken.map((waiting) => waiting.item)))).then(
      (results) => {
        if (results.length !== taken.length) throw new Error(`groupCommit: ${results.length} results for ${taken.length} items`)
        taken.forEach((waiting, i) => waiting.resolve(results[i]!))
      },
    ).catch((error: unknown) => taken.forEach((waiting) => waiting.reject(error)))
      .finally(() => {
        running = false
        next()
      })
  }

  return (item) => new Promise<R>((resolve, reject) => {
    queue.push({ item, resolve, reject })
    if (!running && !scheduled) {
      // Let the other jobs started in this turn join the first run.
      scheduled = true
      setImmediate(next)
    }
  })
}
