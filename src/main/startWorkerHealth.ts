import type { Logger } from 'pino'
import type { Config } from '../config.js'
import { type HealthServer, serveHealth } from '../runtime/health/serveHealth.js'
import { type WorkerHealth, createWorkerHealth } from '../runtime/health/workerHealth.js'

/** Why a listen failed, in words, for the errors an operator can cause with the two variables. */
const reasons: Record<string, string> = {
  EADDRINUSE: 'the port is in use',
  EACCES: 'permission denied (a port below 1024 needs privileges)',
  EADDRNOTAVAIL: 'WORKER_HEALTH_HOST is not an address of this machine',
  ENOTFOUND: 'WORKER_HEALTH_HOST does not resolve',
}

/**
 * The worker's health (`createWorkerHealth`: told when the worker has started and when it stops),
 * served on WORKER_HEALTH_HOST:WORKER_HEALTH_PORT when the port is set. Started first, before the
 * database is opened, so that a supervisor sees the worker starting; an address it cannot listen
 * on stops the process at once (exit code 1, one fatal line naming the variable, the address and
 * why) rather than run a worker its supervisor would take for dead.
 */
export async function startWorkerHealth(config: Config, log: Logger): Promise<WorkerHealth & { close(): Promise<void> }> {
  const health = createWorkerHealth(log)
  if (config.WORKER_HEALTH_PORT === undefined) return { ...health, close: async () => undefined }
  const address = `${config.WORKER_HEALTH_HOST}:${config.WORKER_HEALTH_PORT}`
  let server: HealthServer
  try {
    server = await serveHealth({ host: config.WORKER_HEALTH_HOST, port: config.WORKER_HEALTH_PORT, health, log })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'ERROR'
    log.fatal({ err: error }, `WORKER_HEALTH_PORT: cannot listen on ${address} (${code}: ${reasons[code] ?? (error as Error).message}); exiting`)
    process.exit(1)
  }
  return { ...health, close: () => server.close() }
}
