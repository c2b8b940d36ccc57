export type RetryUntilDoneOptions = {
  /** Told about each failure that will be retried, and how long until the next try. */
  onFailure: (error: unknown, retryInMs: number) => void
  /** Failures worth waiting out (default: every one); any other is thrown at once. */
  retryable?: (error: unknown) => boolean
  firstDelayMs?: number
  maxDelayMs?: number
  /** Aborted (a process stopping while it starts): no further try, the wait cut short, its reason thrown. */
  signal?: AbortSignal
}

/**
 * Runs `step` until it succeeds, waiting between failures with a doubling
 * delay (from `firstDelayMs`, 250 ms, capped at `maxDelayMs`, 5 s), and telling
 * `onFailure` about each one. For start-up steps that must succeed before a
 * process takes work, and whose failures are usually a dependency's blip (a
 * dropped database connection, an operator restarting), so waiting beats exiting.
 */
export async function retryUntilDone<T>(step: () => Promise<T>, options: RetryUntilDoneOptions): Promise<T> {
  const { onFailure, retryable = () => true, firstDelayMs = 250, maxDelayMs = 5_000, signal } = options
  for (let delayMs = firstDelayMs; ; delayMs = Math.min(delayMs * 2, maxDelayMs)) {
    signal?.throwIfAborted()
    try {
      return await step()
    } catch (error) {
      if (!retryable(error) || signal?.aborted) throw error
      onFailure(error, delayMs)
      // The listener goes with its wait: the signal lives as long as the process, and a dependency
      // down for an hour would otherwise leave one per retry on it.
      await new Promise<void>((resolve) => {
        const stop = () => { clearTimeout(timer); resolve() }
        const timer = setTimeout(() => { signal?.removeEventListener('abort', stop); resolve() }, delayMs)
        signal?.addEventListener('abort', stop, { once: true })
      })
    }
  }
}
