/**
 * `run` shared by its callers: each call answers a run begun after the call (never one begun
 * before it, whose reading may predate what the caller wants to see), one run at a time, and at
 * most one queued behind the run under way, which every call arriving meanwhile shares. A burst of
 * N calls costs two runs, not N. A failed run fails the calls that share it; the next call starts
 * another.
 */
export function freshShared<T>(run: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined
  let queued: Promise<T> | undefined
  const start = (): Promise<T> => {
    const started = run().finally(() => { if (running === started) running = undefined })
    running = started
    return started
  }
  return () => {
    // The queued run first: between the run under way settling and the queued one starting, `running`
    // is already cleared, and a call starting its own run then would run beside the queued one.
    if (queued) return queued
    if (!running) return start()
    queued = running.catch(() => undefined).then(() => {
      queued = undefined
      return start()
    })
    return queued
  }
}
