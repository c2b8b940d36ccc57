/**
 * `work`'s outcome, or, once `signal` aborts first, a rejection with the signal's reason: for a
 * start-up wait with no end of its own (a Redis command held in the offline queue while Redis is
 * down) that a process told to stop must not wait out. `work` is then left to settle on its own,
 * its failure unheard (the connection it waits on is closed next).
 */
export function untilAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work
  work.catch(() => undefined)
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason)
    if (signal.aborted) return abort()
    signal.addEventListener('abort', abort, { once: true })
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort))
  })
}
