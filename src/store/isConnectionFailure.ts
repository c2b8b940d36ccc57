/**
 * SQLSTATEs of a session that failed rather than a statement Postgres refused: class 08 (connection
 * exception), 57P01–57P03 (the server shut down, crashed, or cannot take connections yet) and
 * 53300 (too many connections).
 */
const CONNECTION_SQLSTATE = /^(08|57P0[123]$|53300$)/

/** Node's socket errors for a server that cannot be reached (yet). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND'])

/**
 * node-postgres's own connection errors, which carry no code: a connection that ended or was cut,
 * a client left unusable by such a failure, a connect or read timeout, and pg-pool's wait for a
 * connection that timed out.
 */
const DRIVER_MESSAGES = [
  /^Connection terminated/, /^Client has encountered a connection error/, /^Query read timeout$/, /^timeout expired$/,
  /^timeout exceeded when trying to connect$/,
]

/**
 * Whether an error (or one in its cause chain: drizzle and Deputy wrap the driver's) is a failed
 * connection to Postgres (unreachable, restarting, a session it ended) rather than a statement it
 * refused: the first is worth waiting out, the second is not.
 */
export function isConnectionFailure(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && (CONNECTION_SQLSTATE.test(code) || SOCKET_CODES.has(code))) return true
    if (DRIVER_MESSAGES.some((pattern) => pattern.test(current.message))) return true
    // AggregateError: a host name with several addresses reports each address's failure.
    if (current instanceof AggregateError && current.errors.some(isConnectionFailure)) return true
  }
  return false
}
