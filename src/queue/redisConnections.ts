import type { Redis } from 'ioredis'
import { createRedis } from './connection.js'

/**
 * The Redis connections one process opens for its queues and workers, all
 * under one client name (`CLIENT LIST` tells which deployment and process a
 * connection belongs to), so that it can close every one it opened.
 */
export function redisConnections(url: string, connectionName: string) {
  const opened: Redis[] = []
  return {
    open(): Redis {
      const connection = createRedis(url, { connectionName })
      opened.push(connection)
      return connection
    },
    /**
     * Quits every connection opened (disconnecting one that cannot quit). One not connected (Redis
     * down, a reconnect pending) is disconnected at once: its QUIT would wait in the offline queue
     * for a Redis that may not come back, and the process with it.
     */
    async closeAll(): Promise<void> {
      await Promise.all(opened.map((c) => (c.status === 'ready' ? c.quit().then(() => undefined, () => c.disconnect()) : c.disconnect())))
    },
  }
}
