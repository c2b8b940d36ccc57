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
 * BullMQ, every `intervalMs` and on each commit notification. A poll, a notification or a call while
 * a relay runs queues one more after it, and while that one waits to start, later ones add nothing:
 * a relay waiting for Redis (down, each add waiting out its command timeout) would otherwise have
 * every poll queue a relay behind it, without bound for as long as the outage lasts, and a stop
 * wait for all of them. Once the worker is stopping, a queued relay does not start. It logs a
 * failure once and counts its repeats (throttledErrorLog): while Postgres or Redis is down it would
 * otherwise log every run.
 */
export function startOutboxRelay(options: OutboxRelayOptions) {
  const relayFailed = throttledErrorLog(options.log, 'outbox relay failed')
  let relaying: Promise<unknown> = Promise.resolve()
  /** The relay queued behind the one under way, not started yet. */
  let queued: Promise<unknown> | undefined
  const relay = () => {
    if (queued) return queued
    const next: Promise<unknown> = relaying.then(async () => {
      queued = undefined
      if (options.stopping.aborted) return
      while ((await relayOutbox(options.db, options.queue)) === RELAY_BATCH);
    }).catch(relayFailed)
    queued = next
    relaying = next
    return next
  }
  const timer = setInterval(() => void relay(), options.intervalMs)
  const wake = () => void relay()
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
