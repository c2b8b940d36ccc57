import type { Worker } from 'bullmq'

/**
 * Disconnects a BullMQ worker's blocking connection (the one it waits for jobs on) without
 * waiting for it to end. Once the jobs' deadline has passed, shutdown does this instead of
 * `worker.close(true)`, which answers the first close's promise: that one waits for this
 * connection to end, which ioredis never signals for a client disconnected between two reconnect
 * attempts (Redis down, or back and not yet reconnected to), so it may never settle.
 */
export function dropBlockingConnection(worker: Worker): void {
  worker.backend.blockingConnection?.disconnect(false).catch(() => undefined)
}
