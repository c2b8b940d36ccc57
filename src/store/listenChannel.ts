import pg from 'pg'
import type { Database } from './Database.js'

export type ChannelListener = { close(): Promise<void> }

export type ListenOptions = {
  /** Called for each notification, and once after every (re)connection: what was notified while no connection listened is unknown. */
  onNotify: () => void
  /** A connection failed or dropped; the listener reconnects on its own. */
  onError: (error: Error) => void
  /** First reconnection delay; doubles up to 30 s. Default 250 ms. */
  retryMs?: number
}

/**
 * Postgres LISTEN on `channel` until `close()`. On a Postgres server it holds one
 * dedicated connection outside the pool (a pooled one would carry the LISTEN into
 * other work and back out of it), and reconnects with capped exponential backoff
 * when the connection fails. On PGlite it subscribes on the instance. Never throws:
 * a listener that cannot connect reports through `onError` and keeps trying. `close` takes 2 s at
 * most: a connection Postgres does not close by then is dropped.
 */
export function listenChannel(database: Database, channel: string, options: ListenOptions): ChannelListener {
  if (database.kind === 'pglite') {
    const unlisten = database.client.listen(channel, () => options.onNotify())
      .then((stop) => { options.onNotify(); return stop }, (error: unknown) => { options.onError(asError(error)); return undefined })
    return { close: async () => { await (await unlisten)?.().catch(() => undefined) } }
  }

  const { connectionString } = database.pool.options
  let client: pg.Client | undefined
  let closed = false
  let retry: NodeJS.Timeout | undefined
  let delay = options.retryMs ?? 250

  const connect = async () => {
    const next = new pg.Client({ connectionString, application_name: 'deputy-listener' })
    client = next
    let dropped = false
    const drop = (error: Error) => {
      if (dropped) return
      dropped = true
      next.removeAllListeners('notification')
      next.end().catch(() => undefined)
      if (closed) return
      options.onError(error)
      retry = setTimeout(() => void connect(), delay)
      delay = Math.min(30_000, delay * 2)
    }
    next.on('error', drop)
    next.on('end', () => drop(new Error('listener connection ended')))
    next.on('notification', () => options.onNotify())
    try {
      await next.connect()
      await next.query(`LISTEN ${next.escapeIdentifier(channel)}`)
    } catch (error) {
      drop(asError(error))
      return
    }
    if (closed) return void next.end().catch(() => undefined)
    delay = options.retryMs ?? 250
    options.onNotify()
  }
  void connect()

  return {
    async close() {
      closed = true
      clearTimeout(retry)
      if (client) await endWithin(client, END_WAIT_MS)
    },
  }
}

/** How long a listener's close waits for Postgres to answer it before dropping the connection. */
const END_WAIT_MS = 2_000

/**
 * Ends `client`'s connection, or, when Postgres has not closed it within `ms` (a server that took the
 * connection and stopped answering, mid-connect or not, never closes its end), destroys its socket.
 */
async function endWithin(client: pg.Client, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const ended = client.end().then(() => true, () => true)
  const late = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  try {
    if (!(await Promise.race([ended, late]))) client.connection.stream.destroy()
  } finally {
    clearTimeout(timer)
  }
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)))
