import { eq } from 'drizzle-orm'
import { sessions } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import { SIGNING_MARGIN_SECONDS } from '../sessionSigners.js'

/**
 * How to record a session the operator answered SessionUnauthorized for a request or an event stream
 * (PROTOCOL.md §5: its delegation expired or was revoked there, or is malformed): `expired` when its expiry is within
 * the signing margin of the operator's clock as measured here, else `revoked`. Our measure of that
 * clock is only as good as the last measurement, and a request signed before the margin (or resent,
 * which goes on until 2 s before the expiry), or a stream opened in its last seconds, may reach an
 * operator whose clock is a little ahead after the expiry: that is the session's expiry, as expected, not a failure (an expired session gets
 * no `failed_at`, which automatic grants back off on). A session the worker would no longer sign with
 * ends anyway, so a revocation there in its last seconds is not told apart.
 */
export async function unauthorizedStatus(deps: Pick<WorkerDeps, 'db' | 'operatorNow'>, sessionId: string): Promise<'expired' | 'revoked'> {
  const [row] = await deps.db.select({ expiryUnix: sessions.expiryUnix }).from(sessions).where(eq(sessions.id, sessionId))
  return row && row.expiryUnix <= Math.floor(deps.operatorNow() / 1000) + SIGNING_MARGIN_SECONDS ? 'expired' : 'revoked'
}
