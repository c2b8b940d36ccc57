import type { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import { createRedis } from './connection.js'

/**
 * How long closing waits for a connection's QUIT (answered once the replies before it are) before
 * disconnecting it: a Redis that hangs (a stopped process, a blackholed route) takes the QUIT and
 * never answers, and nothing else would ever end the wait.
 */
export const QUIT_WAIT_MS = 2_000

/** One Redis connection a process depends on, and how to ask it whether it works (a readiness check). */
export type RedisProbe = { name: string; probe: () => Promise<unknown> }

/**
 * The Redis connections one process opens for its queues and workers, all
 * under one client name (`CLIENT LIST` tells which deployment and process a
 * connection belongs to), so that it can close every one it opened.
 *
 * `socketTimeoutMs` (ioredis's `socketTimeout`, on every connection, a Worker's included: BullMQ
 * duplicates its blocking one with the same options): a connection on which a command waits and
 * nothing has arrived for that long is closed, and opened again (its commands sent again on the new
 * one). Nothing else ends a connection that its Redis will never answer, and whose socket never
 * fails: one opened to a Redis that hung (the connection taken, its handshake never answered) and
 * was then failed over or restarted elsewhere, or a host gone silent. A Worker's own connections
 * have no command timeout, so without it the worker waited for ever and took no job again while the
 * queues (which the readiness check reads) worked. It must exceed a Worker's longest wait for jobs
 * (BZPOPMIN, answered within 10 s). ioredis 5.11 keeps a closed connection's timer, which may close
 * the next connection once, early: one reconnect more, after an outage only.
 */
export function redisConnections(url: string, connectionName: string, options: { commandTimeoutMs?: number; socketTimeoutMs?: number } = {}) {
  const opened: Redis[] = []
  const named: RedisProbe[] = []
  const open = (role?: string): Redis => {
    const connection = createRedis(url, { connectionName, ...(options.socketTimeoutMs ? { socketTimeout: options.socketTimeoutMs } : {}) })
    opened.push(connection)
    if (role) named.push({ name: role, probe: () => connection.ping() })
    return connection
  }
  return {
    /**
     * A connection without a command timeout, as a BullMQ Worker needs (it blocks on it); `socketTimeoutMs` applies.
     * Given a `role` (never for a connection that blocks), `probes` pings it.
     */
    open,
    /** A PING for each connection opened with a role: one command each, answered at once by a Redis that works. */
    probes: (): RedisProbe[] => [...named],
    /**
     * A BullMQ Queue (`create` builds it on the connection given) whose commands fail ('Command
     * timed out') when Redis has not answered within `commandTimeoutMs`: a Redis that hangs (takes
     * the connection and stops answering) or stays down would otherwise hold each command, and its
     * caller, for ever. Never for a Worker: its blocking wait for jobs outlasts any such timeout
     * (BullMQ duplicates a Worker's connection, options included). The timeout applies once the
     * queue's start-up read (INFO) is answered: BullMQ does not start a failed one again, so a
     * timeout there would fail the queue for good.
     */
    queue<Q extends Queue>(create: (connection: Redis) => Q, role?: string): Q {
      const connection = open(role)
      const queue = create(connection)
      const ms = options.commandTimeoutMs
      if (ms) queue.waitUntilReady().then(() => { connection.options.commandTimeout = ms }, () => undefined)
      return queue
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
