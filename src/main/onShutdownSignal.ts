import type { Logger } from 'pino'

/** What `close` answers when it stopped without waiting for everything (work left running, a connection dropped). */
export const SHUTDOWN_FORCED = 'forced'

/**
 * Runs `close` once on the first SIGTERM or SIGINT, then exits: 0 when it finished, 1 when it
 * answered `SHUTDOWN_FORCED` (it gave up on work or connections, said in its own log lines, then
 * 'shutdown forced'), failed, or was still running after `deadlineMs` (a hung connection must not
 * keep a stopping process alive until something kills it without a word). A second signal while
 * closing is ignored.
 */
export function onShutdownSignal(log: Logger, close: () => Promise<unknown>, options: { deadlineMs: number }): void {
  let stopping = false
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return
      stopping = true
      log.info({ signal, deadlineMs: options.deadlineMs }, 'shutting down')
      setTimeout(() => {
        log.error({ deadlineMs: options.deadlineMs }, 'shutdown did not finish in time; exiting')
        process.exit(1)
      }, options.deadlineMs).unref()
      close().then((outcome) => {
        if (outcome !== SHUTDOWN_FORCED) process.exit(0)
        log.warn('shutdown forced; exiting')
        process.exit(1)
      }, (error: unknown) => { log.error({ err: error }, 'shutdown failed'); process.exit(1) })
    })
  }
}
