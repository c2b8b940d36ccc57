import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import pg from 'pg'
import type { Database, Db } from './Database.js'
import { UNPATCHED_DRIZZLE_WARNING, drizzleTransactionPatched } from './drizzleTransactionPatched.js'
import { lockDataDir } from './lockDataDir.js'
import { namingConnectTimeout } from './namingConnectTimeout.js'
import { schema } from './schema/index.js'

export type OpenDatabaseOptions = {
  /** A Postgres URL (`DATABASE_URL`). When unset, Deputy runs on embedded PGlite. */
  url?: string
  /**
   * PGlite's data directory, default `./.data/pglite` (relative to the working
   * directory); `'memory://'` keeps everything in memory. Ignored with `url`.
   */
  dataDir?: string
  /** Pool size for `url`, default 10. */
  max?: number
  /**
   * For `url`, the longest a statement may take, and a transaction sit idle between two statements,
   * enforced at both ends:
   * - by Postgres (`statement_timeout`, `idle_in_transaction_session_timeout`, sent when the
   *   connection starts): a statement running or waiting for a lock this long is cancelled
   *   (SQLSTATE 57014) and its transaction's locks are released at once, the connection staying
   *   usable; a transaction whose client went silent (a partition) is ended by the server, which
   *   would otherwise hold its locks until TCP gave up;
   * - by the client, `SERVER_ANSWER_GRACE_MS` later (the server's own answer comes first while it
   *   can be heard): a statement with no answer fails ('Query read timeout') and its connection is
   *   destroyed, so a Postgres host that vanished without closing the connection fails the work,
   *   to be retried, instead of holding it a quarter of an hour. Inside a transaction the
   *   connection is dropped at once rather than a rollback queued behind the dead statement;
   * - by the pool, as long again: a new connection that is not ready by then (a host that drops
   *   the handshake, a proxy that accepts and never answers) fails, as does a wait that long for
   *   a pooled connection, instead of waiting for TCP or for ever.
   * Unset: no limit. Migrations have none.
   */
  queryTimeoutMs?: number
  /**
   * Called when a pooled connection fails (server restart, failover, network),
   * whether it sits idle in the pool or is checked out between two statements
   * of a transaction. The pool drops that connection (a checked-out one when it
   * is released); what was running on it fails and is retried like any failed
   * statement. Without a listener node-postgres would crash the process.
   */
  onPoolError?: (error: Error) => void
  /** Told of a fault in the installation that does not stop the store (an unpatched driver). */
  warn?: (message: string) => void
}

/** How much longer than `queryTimeoutMs` the client waits for an answer, the server's cancel included. */
const SERVER_ANSWER_GRACE_MS = 1_000

export const DEFAULT_PGLITE_DIR = './.data/pglite'
export const MEMORY_DATA_DIR = 'memory://'

/**
 * Opens the store: a node-postgres pool when `url` is given, otherwise embedded
 * PGlite. PGlite serves a single connection inside this process, so only one
 * process may open a given data directory (a second is refused: `lockDataDir`);
 * use Postgres to run several workers.
 * Does not migrate: call `migrate(database)` at start-up.
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  if (options.url) return openPg(options.url, options)
  return openPglite(options.dataDir ?? DEFAULT_PGLITE_DIR)
}

function openPg(url: string, options: OpenDatabaseOptions): Database {
  if (!drizzleTransactionPatched()) options.warn?.(UNPATCHED_DRIZZLE_WARNING)
  const pool = new Pool({ connectionString: url, max: options.max ?? 10, application_name: 'deputy', ...statementLimits(options.queryTimeoutMs) })
  const onPoolError = options.onPoolError ?? (() => {})
  // pg-pool listens for a client's errors only while it is idle in the pool. A client checked out
  // by a transaction, between two of its statements, emits 'error' with no listener when its
  // connection drops, and that would crash the process. So every client gets a listener for life,
  // and the pool's own event (the same error, for idle clients) is not reported twice.
  pool.on('connect', (client) => { client.on('error', onPoolError) })
  pool.on('error', () => {})
  const db: Db = drizzleNodePg({ client: pool, schema })
  let closing: Promise<void> | undefined
  return {
    kind: 'pg',
    db,
    pool,
    close: () => (closing ??= pool.end()),
  }
}

type ConnectCallback = (error: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void

/**
 * A pool whose new connection, given up at `connectionTimeoutMillis`, fails naming Postgres and the
 * wait (`namingConnectTimeout`): it is what a start-up retry or a failed job logs. Both forms of
 * `connect` are covered: pg-pool's `query` calls the callback one, drizzle's transactions the promise one.
 */
class Pool extends pg.Pool {
  override connect(): Promise<pg.PoolClient>
  override connect(callback: ConnectCallback): void
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    const timeoutMs = this.options.connectionTimeoutMillis
    if (callback) {
      super.connect((error, client, done) => callback(error && (namingConnectTimeout(error, timeoutMs) as Error), client, done))
      return
    }
    return super.connect().catch((error: unknown) => { throw namingConnectTimeout(error, timeoutMs) })
  }
}

/** The pool options that enforce `queryTimeoutMs` (none when unset). */
function statementLimits(timeoutMs: number | undefined): pg.PoolConfig {
  if (!timeoutMs) return {}
  return {
    statement_timeout: timeoutMs,
    idle_in_transaction_session_timeout: timeoutMs,
    query_timeout: timeoutMs + SERVER_ANSWER_GRACE_MS,
    connectionTimeoutMillis: timeoutMs + SERVER_ANSWER_GRACE_MS,
  }
}

async function openPglite(dataDir: string): Promise<Database> {
  const inMemory = dataDir.startsWith(MEMORY_DATA_DIR)
  const location = inMemory ? dataDir : resolve(dataDir)
  if (inMemory) return fromPglite(await PGlite.create(location))
  await mkdir(location, { recursive: true })
  // PGlite does not lock its directory: a second process would open it too, and corrupt it.
  const unlock = await lockDataDir(location)
  let client: PGlite
  try {
    client = await PGlite.create(location)
  } catch (error) {
    await unlock()
    throw error
  }
  return fromPglite(client, unlock)
}

/**
 * Wraps a PGlite instance the caller created (say, from a `loadDataDir`
 * snapshot); `close()` then closes it, and releases its data directory's lock (`unlock`).
 */
export function fromPglite(client: PGlite, unlock?: () => Promise<void>): Database {
  const db: Db = drizzlePglite({ client, schema })
  let closing: Promise<void> | undefined
  const close = async () => {
    try {
      if (!client.closed) await client.close()
    } finally {
      await unlock?.()
    }
  }
  return {
    kind: 'pglite',
    db,
    client,
    close: () => (closing ??= close()),
  }
}
