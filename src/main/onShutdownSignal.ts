import type { Logger } from 'pino'

/**
 * Runs `close` once on the first SIGTERM or SIGINT, then exits: 0 when it
 * finished, 1 when it failed. A second signal while closing is ignored.
 */
export function onShutdownSignal(log: Logger, close: () => Promise<unknown>): void {
  let stopping = false
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return
      stopping = true
      log.info({ signal }, 'shutting down')
      close().then(() => process.exit(0), (error: unknown) => { log.error({ err: error }, 'shutdown failed'); process.exit(1) })
    })
  }
}
