import { eq } from 'drizzle-orm'
import type { RequestFamily } from '../../core/acl/actions.js'
import { earlierUnfinished } from '../../store/repositories/outboxRepo.js'
import { openRequestOf } from '../../store/repositories/openRequestOf.js'
import { type RequestRow, sessions } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import { covers } from '../../core/acl/covers.js'
import { hold } from './hold.js'
import { loadSubmitContext } from './loadSubmitContext.js'
import { HaltedBeforeSigningError, SettledMeanwhileError, signAndPersist } from './signAndPersist.js'
import { claimOrSettle, settleHaltedBeforeSigning } from './claim.js'
import { localRefusal } from './localChecks.js'
import { meetOutOfScope } from './meetOutOfScope.js'
import { rateLimitDelayMs } from './rateLimitWait.js'
import { settleDone, settleFailed } from './settle.js'
import type { FamilySpec, JobControl, SubmitResult } from './types.js'
import { deliver, markUnknown } from './deliver.js'
import { closeRequest } from './closeRequest.js'
import { acceptedByReadBack } from './acceptedByReadBack.js'
import { waitWhileDomainChanged } from './waitForDomain.js'

export type { JobControl } from './types.js'

/**
 * The recipe every submission follows: load, order, resume or claim, check
 * locally, sign once and persist, send, and record the outcome. Errors are
 * mapped to outcomes in one place (`classifyVenueError`).
 */
export async function runSubmission<F extends RequestFamily>(deps: WorkerDeps, outboxId: string, spec: FamilySpec<F>, control: JobControl): Promise<SubmitResult> {
  const ctx = await loadSubmitContext(deps, outboxId)
  if (!ctx || ctx.row.status === 'done' || ctx.row.status === 'failed' || ctx.row.status === 'held') {
    return { result: 'done', reason: ctx ? `outbox ${ctx.row.status}` : 'outbox row missing' }
  }
  const { row, order } = ctx
  // A delayed job (good-till) that a sweep re-added early waits for its time (on Postgres's clock).
  if (ctx.dueInMs > 0) return control.delay(ctx.dueInMs)
  // The operator verifies over another EIP-712 domain: nothing is signed or resent over the old one.
  const domainWait = await waitWhileDomainChanged(ctx, control)
  if (domainWait) return domainWait
  const earlier = await earlierUnfinished(deps.db, row)
  // A held Order holds what follows it, except a cancel, which may settle it locally.
  if (earlier === 'held' && !spec.settlesHeldWork) return hold(ctx, spec, 'an earlier request for this order is held', 'earlier')
  if (earlier && earlier !== 'held') return control.delay(200)

  // A previous attempt signed (and maybe sent) a request: resend those exact bytes. An Order
  // whose order is still pending was never claimed, so it has none (skip the round trip).
  const inFlight = spec.family === 'Order' && order?.state === 'pending' ? undefined : await openRequestOf(deps.db, row.id)
  let request: RequestRow
  const session = await deps.sessions.active(row.walletId)
  let fields: Record<string, unknown>
  let resumable = inFlight
  if (inFlight && !(await sessionStillValid(deps, inFlight.sessionId))) {
    // Sent, its answer lost: taken by the operator (read back), it is accepted and not signed again.
    const mayHaveLanded = inFlight.status === 'unknown' || inFlight.errorCode === null
    if (session && mayHaveLanded && (await spec.tookEffect?.(ctx, session, inFlight))) return acceptedByReadBack(ctx, spec, inFlight)
    // No session to read it back with: work that must not take effect twice (a modify of an order
    // that outlives this session: one another session placed) waits, its request open as possibly
    // taken, and is read back once a session is granted.
    if (!session && mayHaveLanded && spec.tookEffect) {
      await markUnknown(deps, inFlight.id)
      return hold(ctx, spec, 'no active session with time left')
    }
    // Never send bytes bound to a delegation that has ended. The work is signed again under the
    // current session; for an Order the cloid makes that safe even if the old bytes were accepted.
    await closeRequest(deps.db, deps.now(), inFlight.id, 'LOCAL.SESSION_ENDED', 'not resent: its delegation ended; signed again under the current session')
    resumable = undefined
  }
  if (resumable && spec.stopsResend) {
    // A halt, a cancel or a CancelAll asked since these bytes were signed (say while a rate limit
    // was waited out): they do not go out again.
    const stop = await spec.stopsResend(deps.db, ctx)
    // `signed` with no outcome ever stored may have been sent right before a crash: as unknown.
    if (stop && (resumable.status === 'unknown' || resumable.errorCode === null)) {
      // An answer was lost: it may have been accepted, and resending it could place it now. The
      // order stays unresolved; reconciliation reads it back by cloid once the deadline has passed
      // (and places it again through the claim, which stops it, if the operator never saw it).
      await spec.onNotResent?.(ctx, session)
      return settleDone(ctx, spec, `not resent: ${stop}`, 'skipped', { requestId: resumable.id })
    }
    if (stop) {
      // Never accepted (never sent, or every answer one the operator gives before accepting):
      // closed, and the claim below settles the work as it settles any stopped before signing.
      await closeRequest(deps.db, deps.now(), resumable.id, 'LOCAL.STOPPED', `not resent: ${stop}`)
      resumable = undefined
    }
  }
  if (resumable) {
    request = resumable
    fields = fieldsFromWire(JSON.parse(resumable.body).message as Record<string, string | number>)
  } else {
    // Waiting on an order whose placement is held for a session (a cancel may pass a held
    // placement, and then finds the order's outcome unknown): held too, and released with it.
    const heldEarlier = earlier === 'held' ? () => hold(ctx, spec, 'an earlier request for this order is held', 'earlier') : undefined
    const claim = await claimOrSettle(session && spec.beforeClaim ? await spec.beforeClaim(ctx, session) : ctx, spec, control, heldEarlier)
    if (claim.kind !== 'proceed') return claim.result
    if (!session) return hold(ctx, spec, 'no active session with time left')
    if (!covers(session.aclScope, spec.family)) {
      const met = await meetOutOfScope(ctx, spec, session)
      if (met) return met
    }
    const refusal = await localRefusal(deps, session, spec.family, { ...claim.policy, ...(row.orderId ? { orderId: row.orderId } : {}), outboxId: row.id })
    if (refusal) return settleFailed(ctx, spec, refusal.code, refusal.message, 'local')
    fields = claim.fields as Record<string, unknown>
    const wait = rateLimitDelayMs(deps, spec.family, session.id)
    if (wait > 0) {
      // Unclaimed while it waits: a claimed order with nothing signed reads, to reconciliation, as a
      // claim lost in a crash (re-queued as new work on every run); and a pending one can still be
      // cancelled, modified or halted here, as any not sent yet. Decided once: had the limit ended
      // during the unclaim, the order would go out as pending, and a halt meanwhile would cancel it
      // here while the operator places it.
      if (spec.unclaim) await deps.db.transaction((tx) => spec.unclaim!(tx, ctx))
      return control.delay(wait)
    }
    try {
      request = await signAndPersist(deps, session, spec.family, fields, { walletId: row.walletId, orderId: row.orderId, outboxId: row.id })
    } catch (error) {
      // Halted since the claim: nothing signed; the claim settles it.
      if (error instanceof HaltedBeforeSigningError) return settleHaltedBeforeSigning(ctx, spec, control)
      if (!(error instanceof SettledMeanwhileError)) throw error
      // The other run's outcome is this work's: nothing is signed or sent again.
      return error.latest?.status === 'accepted'
        ? { result: 'accepted', duplicate: true, requestId: error.latest.id }
        : { result: 'done', reason: `settled ${error.status} by another run` }
    }
  }
  return deliver(ctx, spec, control, { request, session, fields, resumed: request === resumable })
}

/** The family fields of a persisted wire message, typed again for re-signing (uints back to bigint). */
function fieldsFromWire(message: Record<string, string | number>): Record<string, unknown> {
  const { delegation: _d, wallet: _w, nonce: _n, deadline: _t, ...fields } = message
  const typed: Record<string, unknown> = { ...fields }
  for (const key of ['price', 'size'] as const) if (key in typed) typed[key] = BigInt(typed[key] as string)
  for (const key of ['side', 'timeInForce'] as const) if (key in typed) typed[key] = Number(typed[key])
  return typed
}

async function sessionStillValid(deps: WorkerDeps, sessionId: string): Promise<boolean> {
  const [row] = await deps.db.select({ status: sessions.status, expiryUnix: sessions.expiryUnix }).from(sessions).where(eq(sessions.id, sessionId))
  return !!row && (row.status === 'active' || row.status === 'rotating') && row.expiryUnix > Math.floor(deps.operatorNow() / 1000) + 2
}
