import type { Logger } from 'pino'
import { RELAY_BATCH, relayOutbox } from '../../jobs/relayOutbox.js'
import type { Database, Db } from '../store/Database.js'
import { listenChannel } from '../store/listenChannel.js'
import { OUTBOX_CHANNEL } from '../store/repositories/outboxRepo.js'
import { throttledErrorLog } from './throttledErrorLog.js'

export type OutboxRelayOptions = {
  db: Db
  /** Given, the relay also wakes as soon as outbox rows are committed (LISTEN/NOTIFY), not only at its next poll. */
  database?: Database
  queue: Parameters<typeof relayOutbox>[1]
  log: Logger
  intervalMs: number
  /** Aborted when the worker stops: a notification then queues no more relays. */
  stopping: AbortSignal
}

/**
 * The outbox relay of a worker: one relay at a time, each draining the due rows batch by batch into
 * BullMQ, every `intervalMs` and on each commit notification. It logs a failure once and counts its
 * repeats (throttledErrorLog): while Postgres or Redis is down it would otherwise log every run.
 */
export function startOutboxRelay(options: OutboxRelayOptions) {
  const relayFailed = throttledErrorLog(options.log, 'outbox relay failed')
  let relaying: Promise<unknown> = Promise.resolve()
  const relay = () => {
    relaying = relaying.then(async () => { while ((await relayOutbox(options.db, options.queue)) === RELAY_BATCH); })
      .catch(relayFailed)
    return relaying
  }
  const timer = setInterval(() => void relay(), options.intervalMs)
  // A notification queues one more relay after the running one; more notifications meanwhile add nothing.
  let wakeQueued = false
  const wake = () => {
    if (options.stopping.aborted || wakeQueued) return
    wakeQueued = true
    void relaying.then(() => { wakeQueued = false; return options.stopping.aborted ? undefined : relay() })
  }
  const listener = options.database && listenChannel(options.database, OUTBOX_CHANNEL, {
    onNotify: wake,
    onError: throttledErrorLog(options.log, 'outbox listener connection failed; relaying by polling until it reconnects', { level: 'warn' }),
  })
  return {
    /** Relays due outbox rows now (after the relay under way). */
    relay,
    /** Stops the polling and the listener; the relay under way goes on (`settled`). */
    async stop(): Promise<void> {
      clearInterval(timer)
      await listener?.close()
    },
    /** The relay under way, or the last one: settled, never rejected. */
    settled: () => relaying,
  }
}
