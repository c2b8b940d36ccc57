import { CliError, exitCodes } from './errors.js'
import type { Output } from './output.js'

/**
 * Reads a resource every 250 ms until `done` holds, printing a progress line (stderr) each time
 * what `seen` picks out of it changes. A timeout is a failed operation (exit 1); `done` may throw
 * to end the wait with its own error.
 */
export async function pollUntil<T>(out: Output, timeoutSeconds: number, poll: {
  read: () => Promise<T>
  seen: (value: T) => string
  progress: (value: T) => string
  done: (value: T) => boolean
  stillWaiting: (value: T) => string
}): Promise<T> {
  const until = Date.now() + timeoutSeconds * 1000
  let last: string | undefined
  for (;;) {
    const value = await poll.read()
    const seen = poll.seen(value)
    if (seen !== last) out.progress(poll.progress(value))
    last = seen
    if (poll.done(value)) return value
    if (Date.now() > until) throw new CliError(exitCodes.failed, poll.stillWaiting(value), { code: 'CLI.WAIT_TIMEOUT' })
    await new Promise((r) => setTimeout(r, 250))
  }
}
