import type { Worker } from 'bullmq'
import type { RedisProbe } from './redisConnections.js'

/**
 * A readiness probe of a BullMQ worker's blocking connection (the one it waits for jobs on, which
 * BullMQ opens beside the one it is given): a PING there would wait behind the wait for jobs, up to
 * 10 s, so it checks the connection is connected instead (no command). A Redis that hangs with the
 * connection open is found by the PINGs on the other connections, and this one is reopened at
 * `REDIS_SOCKET_TIMEOUT_MS`.
 */
export function blockingProbe(name: string, worker: Worker): RedisProbe {
  return {
    name: `${name} (blocking)`,
    probe: async () => {
      const connection = worker.backend.blockingConnection
      if (!connection) return
      const { status } = await connection.client
      if (status !== 'ready') throw new Error(`blocking connection ${status}`)
    },
  }
}
