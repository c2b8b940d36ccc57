import type { RequestFamily } from '../../core/acl/actions.js'
import type { VenueError } from '../../core/errors/venue.js'
import type { WorkerDeps } from '../deps.js'
import type { JobControl } from './types.js'

/**
 * A session the operator rate-limited sends nothing until its Retry-After has passed: the job
 * waits that long (plus up to 10% jitter, so a session's waiting jobs do not all wake at once).
 * The kill switch is the exception: a CancelAll is always tried at once (a 429 then delays it).
 */
export function waitForRateLimit(deps: WorkerDeps, family: RequestFamily, sessionId: string, control: JobControl): Promise<never> | undefined {
  const wait = rateLimitDelayMs(deps, family, sessionId)
  return wait > 0 ? control.delay(wait) : undefined
}

/** How long `waitForRateLimit` would delay the job (jitter included); 0 when it may send now. */
export function rateLimitDelayMs(deps: WorkerDeps, family: RequestFamily, sessionId: string): number {
  const wait = family === 'CancelAll' ? 0 : deps.rateLimits.waitMs(sessionId)
  return wait > 0 ? wait + Math.floor(Math.random() * (wait / 10)) : 0
}

/**
 * The longest a 429's Retry-After holds a session. A longer one (a misconfigured operator or proxy:
 * an hour, a day) would leave the session's work, cancels included, delayed that long with nothing
 * failing and nobody told; the send after this wait, if still limited, hears a fresh 429.
 */
export const MAX_RATE_LIMIT_WAIT_MS = 60_000

/** How long a 429 holds its session: its Retry-After (1 s when it gives none), at least 100 ms and at most `MAX_RATE_LIMIT_WAIT_MS`. */
export function rateLimitWaitMs(error: VenueError): number {
  return Math.min(MAX_RATE_LIMIT_WAIT_MS, Math.max(100, error.retryAfterMs ?? 1000))
}
