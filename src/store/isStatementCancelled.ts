/**
 * Whether a driver error (possibly wrapped by drizzle) is a statement Postgres cancelled (SQLSTATE
 * 57014): `statement_timeout` ran out, or a cancel request arrived. Nothing of its transaction was
 * kept. Not a connection failure (`isConnectionFailure`): the connection is still usable.
 */
export function isStatementCancelled(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) {
    if ((current as { code?: unknown }).code === '57014') return true
  }
  return false
}
