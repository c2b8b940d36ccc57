import type { Logger } from 'pino'
import { onShutdownSignal } from './onShutdownSignal.js'

/**
 * Starts a long-running service and stops it on the first SIGTERM or SIGINT, including one that
 * arrives while it still starts (a deployment rolled over a process waiting for the operator, which
 * start-up waits out with no end): `start` is handed a signal aborted then, so its waits end and it
 * closes what it opened and rejects; a start past them finishes, and is stopped. `stop` is given the
 * started service, or undefined when it never started; what it answers goes to `onShutdownSignal`
 * (`SHUTDOWN_FORCED`: exit code 1). Answers the same (undefined: stopped first).
 */
export async function startUntilStopped<T>(log: Logger, start: (signal: AbortSignal) => Promise<T>, stop: (started: T | undefined) => Promise<unknown>, options: { deadlineMs: number }): Promise<T | undefined> {
  const startup = new AbortController()
  let starting: Promise<T | undefined> = Promise.resolve(undefined)
  onShutdownSignal(log, async () => {
    startup.abort(new Error('stopped while starting'))
    return stop(await starting)
  }, options)
  starting = start(startup.signal).catch((error: unknown) => {
    if (startup.signal.aborted) return undefined
    throw error
  })
  return starting
}
