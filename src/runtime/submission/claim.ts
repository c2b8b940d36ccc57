import type { RequestFamily } from '../../core/acl/actions.js'
import { covers } from '../../core/acl/covers.js'
import type { RequestRow } from '../../store/schema/index.js'
import type { ActiveSession } from '../sessionSigners.js'
import { refusalOnNewSession } from './localChecks.js'
import { meetOutOfScope } from './meetOutOfScope.js'
import { recordDone, settleFailed } from './settle.js'
import { HaltedBeforeSigningError, signAndPersist } from './signAndPersist.js'
import type { Claim, FamilySpec, JobControl, SubmitContext, SubmitResult } from './types.js'

/** The family's claim; what it decided when it is not to proceed (settled: outbox row and audit). */
export async function claimOrSettle<F extends RequestFamily>(
  ctx: SubmitContext, spec: FamilySpec<F>, control: JobControl, whenWaiting?: () => Promise<SubmitResult>,
): Promise<Extract<Claim<F>, { kind: 'proceed' }> | { kind: 'settled'; result: SubmitResult }> {
  // What the claim decided and its record (outbox row done, audit entry) commit together: settled in
  // a transaction of its own, a crash between the two left the order cancelled (say, at its good-till
  // time) and the work to run again, whose claim then found it cancelled and recorded another reason.
  const claim = await ctx.deps.db.transaction(async (tx) => {
    const decided = await spec.claim(tx, ctx)
    if (decided.kind === 'done' && decided.standsDownFor) await recordDone(tx, ctx, spec, decided.reason, 'stoodDown', { orderId: ctx.row.orderId, for: decided.standsDownFor })
    else if (decided.kind === 'done') await recordDone(tx, ctx, spec, decided.reason, 'skipped')
    return decided
  })
  if (claim.kind === 'wait') return { kind: 'settled', result: whenWaiting ? await whenWaiting() : await control.delay(250) }
  if (claim.kind === 'done' || claim.kind === 'settledElsewhere') return { kind: 'settled', result: { result: 'done', reason: claim.reason } }
  return claim
}

/**
 * Work whose last request the operator refused (it took no effect) is signed anew, under `session`:
 * first a halt, a cancel or a CancelAll asked since stops it (the claim settles it, as before a
 * first signature, and so does anything else the claim now finds), then a new session's scope and
 * policy are checked again (`refusalOnNewSession`). A new session whose scope does not cover the
 * work (a narrower grant replaced the one it was signed under) is met as by work signed the first
 * time (`runSubmission`): a placement or a modification of a wallet whose sessions the worker grants
 * itself is held for a scope change, not failed. Answers the new request, or the outcome.
 */
export async function signAgain<F extends RequestFamily>(
  ctx: SubmitContext, spec: FamilySpec<F>, control: JobControl, session: ActiveSession, previous: RequestRow, fields: Record<string, unknown>,
): Promise<{ request: RequestRow; fields: Record<string, unknown> } | { result: SubmitResult }> {
  const { deps, row } = ctx
  if (spec.stopsResend && (await spec.stopsResend(deps.db, ctx))) {
    const claim = await claimOrSettle(ctx, spec, control)
    if (claim.kind !== 'proceed') return { result: claim.result }
    fields = claim.fields as Record<string, unknown>
  }
  const refusal = await refusalOnNewSession(ctx, session, previous, spec.family, fields)
  if (refusal && !covers(session.aclScope, spec.family)) {
    const met = await meetOutOfScope(ctx, spec, session)
    if (met) return { result: met }
  }
  if (refusal) return { result: await settleFailed(ctx, spec, refusal.code, refusal.message, 'local') }
  try {
    return { request: await signAndPersist(deps, session, spec.family, fields, { walletId: row.walletId, orderId: row.orderId, outboxId: row.id }), fields }
  } catch (error) {
    if (!(error instanceof HaltedBeforeSigningError)) throw error
    return { result: await settleHaltedBeforeSigning(ctx, spec, control) }
  }
}

/**
 * Work claimed before a halt whose signature the halt stopped (`HaltedBeforeSigningError`): its
 * claim, run again, finds the halt and settles it as it settles work the halt stopped before its
 * claim (a placement cancelled `halted`, a modification not applied). Resumed meanwhile, the
 * claim proceeds: the work is retried a moment later, from its claim.
 */
export async function settleHaltedBeforeSigning<F extends RequestFamily>(ctx: SubmitContext, spec: FamilySpec<F>, control: JobControl): Promise<SubmitResult> {
  const claim = await claimOrSettle(ctx, spec, control)
  return claim.kind === 'proceed' ? control.delay(250) : claim.result
}
