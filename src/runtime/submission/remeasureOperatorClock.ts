import type { Logger } from 'pino'
import { VenueError } from '../../core/errors/venue.js'
import type { RequestRow } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'

/** What measuring the operator's clock again needs: a process without `resyncOperatorClock` never does. */
type ClockDeps = Pick<WorkerDeps, 'operatorNow' | 'resyncOperatorClock'> & { log?: Logger }

/**
 * Measures the operator's clock again after the operator refused a deadline: this host's clock may
 * have stepped since the offset was measured, and signed on it again every deadline would be refused
 * again. Answers whether it was measured (a failure is logged: the request is handled as refused).
 */
export async function remeasureOperatorClock(deps: ClockDeps): Promise<boolean> {
  if (!deps.resyncOperatorClock) return false
  try {
    await deps.resyncOperatorClock()
    return true
  } catch (cause) {
    deps.log?.warn({ err: cause }, 'could not measure the operator\'s clock again')
    return false
  }
}

/**
 * Whether the operator's InvalidRequest was for the request's deadline alone: more than
 * `maxDeadlineMs` ahead of the operator's clock, measured again first (PROTOCOL.md §4). It is when
 * this side's clock stepped forward after the offset was measured: every deadline is then too far.
 */
export async function deadlineTooFarAhead(deps: WorkerDeps, request: RequestRow): Promise<boolean> {
  if (!deps.resyncOperatorClock) return false
  const deadline = (JSON.parse(request.body) as { message?: { deadline?: unknown } }).message?.deadline
  if (typeof deadline !== 'string' || !/^\d+$/.test(deadline)) return false
  if (!(await remeasureOperatorClock(deps))) return false
  return BigInt(deadline) > BigInt(Math.floor(deps.operatorNow()) + deps.maxDeadlineMs)
}

/**
 * Whether the operator refused a request signed with `deadline` for that deadline alone, measuring
 * its clock again first: DeadlineExpired, or InvalidRequest for a deadline more than `maxDeadlineMs`
 * ahead of the clock measured anew. Signed again on the new offset, such a request goes through.
 */
export async function deadlineRefused(deps: ClockDeps & { maxDeadlineMs?: number }, error: unknown, deadline: bigint): Promise<boolean> {
  if (!(error instanceof VenueError && (error.venueCode === 'DeadlineExpired' || error.venueCode === 'InvalidRequest'))) return false
  if (!(await remeasureOperatorClock(deps))) return false
  return error.venueCode === 'DeadlineExpired'
    || (deps.maxDeadlineMs !== undefined && deadline > BigInt(Math.floor(deps.operatorNow()) + deps.maxDeadlineMs))
}
