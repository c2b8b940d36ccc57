import type { Redis } from 'ioredis'
import { createRedis } from './connection.js'

/**
 * How long closing waits for a connection's QUIT (answered once the replies before it are) before
 * disconnecting it: a Redis that hangs (a stopped process, a blackholed route) takes the QUIT and
 * never answers, and nothing else would ever end the wait.
 */
export const QUIT_WAIT_MS = 2_000

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
     * Quits every connection opened (disconnecting one that cannot quit, or whose QUIT has no answer
     * within QUIT_WAIT_MS). One not connected (Redis down, a reconnect pending) is disconnected at
     * once: its QUIT would wait in the offline queue for a Redis that may not come back, and the
     * process with it.
     */
    async closeAll(): Promise<void> {
      await Promise.all(opened.map((c) => (c.status === 'ready' ? quitWithin(c, QUIT_WAIT_MS) : c.disconnect())))
    },
  }
}

async function quitWithin(connection: Redis, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const quit = connection.quit().then(() => true, () => false)
  const late = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  try {
    if (!(await Promise.race([quit, late]))) connection.disconnect()
  } finally {
    clearTimeout(timer)
  }
}
