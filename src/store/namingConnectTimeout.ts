import { PostgresUnansweredError } from './errors.js'

/** node-postgres's errors for a new connection given up at its timeout: the pool's, and a lone client's. */
const CONNECT_TIMED_OUT = new Set(['Connection terminated due to connection timeout', 'timeout expired'])

/**
 * `error`, or, when it is node-postgres giving up a new connection at `timeoutMs` (its
 * `connectionTimeoutMillis`), a `PostgresUnansweredError` caused by it, which names Postgres and the
 * wait. The driver's own words (its cause, 'Connection terminated unexpectedly') read as if the server
 * had closed the connection. A wait for a pooled connection ('timeout exceeded when trying to
 * connect': every one busy) is left as it is.
 */
export function namingConnectTimeout(error: unknown, timeoutMs: number | undefined): unknown {
  if (!timeoutMs || !(error instanceof Error) || !CONNECT_TIMED_OUT.has(error.message)) return error
  return new PostgresUnansweredError(timeoutMs, error)
}
