/**
 * The second half of every submission (`runSubmission` does the first: load, order, claim, sign and
 * persist): send the signed request, and map the operator's answer to its outcome.
 */
import { and, eq, ne, sql } from 'drizzle-orm'
import { classifyVenueError } from '../../core/errors/classifyVenueError.js'
import type { RequestFamily } from '../../core/acl/actions.js'
import { VenueError } from '../../core/errors/venue.js'
import { NO_ANSWER_CODE } from '../../core/errors/operatorErrorCodes.js'
import { setOutboxStatus } from '../../store/repositories/outboxRepo.js'
import { audit } from '../../store/repositories/audit.js'
import { lockOrder } from '../../store/repositories/lockOrder.js'
import type { Db } from '../../store/Database.js'
import { type RequestRow, requests } from '../../store/schema/index.js'
import type { Receipt } from '../../venue/types.js'
import type { AlertEvent, WorkerDeps } from '../deps.js'
import type { ActiveSession } from '../sessionSigners.js'
import { markSessionRefused } from '../sessions/markSessionRefused.js'
import { unauthorizedStatus } from '../sessions/unauthorizedStatus.js'
import { hold } from './hold.js'
import { acceptedByReadBack } from './acceptedByReadBack.js'
import { signAgain } from './claim.js'
import { rateLimitWaitMs, waitForRateLimit } from './rateLimitWait.js'
import { deadlineTooFarAhead, remeasureOperatorClock } from './remeasureOperatorClock.js'
import { settleDone, settleFailed } from './settle.js'
import { closeRequest, firstSentAt, openStatus } from './closeRequest.js'
import type { FamilySpec, JobControl, SubmitContext, SubmitResult } from './types.js'
import { errorMessage } from '../../core/errors/errorMessage.js'
import { judgeSignatureRefusal } from '../judgeSignatureRefusal.js'
import { waitForDomain } from './waitForDomain.js'

const MAX_RESIGNS = 3

/** A send already made (by the batched Order path): when it began, and its outcome. */
export type FirstSend = { sentAt: Date; outcome: () => Promise<Receipt> }

/**
 * Sends a signed and persisted request and records the outcome: accepted, re-signed (fresh nonce
 * or a new session), held, rejected, or thrown for BullMQ to retry (the retry resends the same
 * bytes). `firstSend` stands in for the first send when its outcome is already known (the batched
 * Order path sent it); every later send goes to the operator. Each stored outcome also stores when
 * its send began, unless an earlier one did (`sent_at` is the first send's).
 */
export async function deliver<F extends RequestFamily>(
  ctx: SubmitContext,
  spec: FamilySpec<F>,
  control: JobControl,
  signed: { request: RequestRow; session: ActiveSession | undefined; fields: Record<string, unknown>; resumed?: boolean },
  firstSend?: FirstSend,
): Promise<SubmitResult> {
  const { deps, row } = ctx
  let { request, session, fields } = signed
  // Bytes an earlier run may have had taken: its answer lost (`unknown`), or no outcome ever stored
  // (`signed` with no error: a crash right after the send). A refusal of this resend says nothing of
  // that send; and for work that must not take effect twice (`tookEffect`: a modify) the operator is
  // read before it is signed again.
  let earlierMayHaveLanded = signed.resumed === true && (request.status === 'unknown' || request.errorCode === null)
  // A request closed on a session refusal though an earlier send of it may have been taken, and the
  // work signed again: what the operator answers the new request may say it took this one.
  let refusedMaybeTaken: RequestRow | undefined
  for (let resigns = 0; ; resigns++) {
    const sent = resigns === 0 ? firstSend : undefined
    // Outside the try: waiting out a rate limit is not an outcome of this request's send.
    const limited = !sent && waitForRateLimit(deps, spec.family, request.sessionId, control)
    if (limited) return limited
    const sentAt = sent ? sent.sentAt : new Date(deps.now())
    if (!sent && request.errorCode !== null) {
      // A resend after an answer given before acceptance (a 503, a 429): that answer no longer holds
      // once these bytes are out again. Cleared first, so a crash before this send's outcome is stored
      // leaves the request as possibly accepted (`signed`, no error), which a stop then reads back
      // instead of closing it as never accepted while the operator may have it open.
      await deps.db.update(requests).set({ errorCode: null, errorMessage: null }).where(and(eq(requests.id, request.id), eq(requests.status, 'signed')))
      request = { ...request, errorCode: null, errorMessage: null }
    }
    let answered = false
    try {
      const receipt = await (sent ? sent.outcome() : deps.venue.submit(request.body))
      answered = true
      await accept(ctx, spec, request, receipt, fields, sentAt, receipt.duplicate ? refusedMaybeTaken : undefined)
      return { result: 'accepted', duplicate: receipt.duplicate, requestId: request.id }
    } catch (error) {
      // The operator accepted and storing its answer failed (a Postgres error, not the operator's):
      // nothing is recorded against the request, which stays possibly accepted (no error code), and
      // BullMQ's retry resends the same bytes, answered duplicate. Classified as a send failure it
      // would read as refused, and a cancel would then close it as never accepted.
      if (answered) throw error
      const code = error instanceof VenueError ? error.venueCode : NO_ANSWER_CODE
      // Refused for a deadline too far ahead (the clock stepped forward since the offset was
      // measured): signed again on the clock measured anew, not rejected for good.
      // A refusal by something in front of the operator (a proxy's 4xx page) says nothing of an
      // earlier send of these bytes whose answer was lost: it may be live, so the outcome stays unknown
      // and the same bytes go out again (answered duplicate), never rejected here while live there.
      const outcome = code === 'InvalidRequest' && (await deadlineTooFarAhead(deps, request)) ? 'resign'
        : request.status === 'unknown' && error instanceof VenueError && error.withoutProtocolCode && code !== 'RateLimited' ? 'unknownOutcome'
          : classifyVenueError(error as VenueError)
      // Stored beside the code (requests, the outbox row, an order's rejectReason): the operator's words alone.
      const message = error instanceof VenueError ? error.operatorMessage : errorMessage(error)
      if (outcome === 'unknownOutcome' || outcome === 'transient') {
        await deps.db.transaction(async (tx) => {
          // A definite refusal (503) after a lost answer leaves the request unknown: an earlier send
          // may have been accepted, which `signed` would deny (resending and its stops rely on it).
          // Only while it is open: another run of the same work may have had these bytes accepted
          // since (its receipt stored), and an accepted request stays accepted.
          const status = outcome === 'unknownOutcome' ? sql`'unknown'` : sql`case when ${requests.status} = 'unknown' then 'unknown' else 'signed' end`
          const open = await tx.update(requests).set({ status, errorCode: code, errorMessage: message, sentAt: firstSentAt(sentAt) })
            .where(and(eq(requests.id, request.id), openStatus)).returning({ id: requests.id })
          if (outcome === 'unknownOutcome' && open.length) await spec.onUnknown?.(tx, ctx)
        })
        throw error // BullMQ retries with backoff; the next attempt resends the same bytes.
      }
      // Rate limited (per session key): the same bytes go out again after Retry-After (the request
      // stays open), and this session's other work waits too; other sessions keep sending.
      if (outcome === 'rateLimited') {
        // Recorded so the wait shows in the request's history.
        await deps.db.update(requests).set({ errorCode: code, errorMessage: message, sentAt: firstSentAt(sentAt) }).where(and(eq(requests.id, request.id), openStatus))
        const retryAfterMs = rateLimitWaitMs(error as VenueError)
        deps.rateLimits.pause(request.sessionId, retryAfterMs)
        // The job that heard the 429 waits exactly Retry-After; the session's others add jitter.
        return await control.delay(retryAfterMs)
      }
      // A signature refused (SignerMismatch, SessionUnauthorized) is first put to the operator's
      // domain (one shared read of /v1/info; the common path never reads it): changed, every
      // signature of this process is refused alike, which says nothing of this session or its key.
      // The request stays open and the same bytes wait (an earlier send may have been accepted).
      let refusal = outcome
      if (outcome === 'signerMismatch' || outcome === 'sessionInvalid') {
        const body = bodyOf(request)
        const judged = await judgeSignatureRefusal({
          watch: deps.operatorDomain, domain: deps.domain, code: outcome === 'signerMismatch' ? 'SignerMismatch' : 'SessionUnauthorized',
          payload: body.delegation, delegationHash: body.message?.delegation,
        })
        if (judged === 'waitForDomain') {
          await deps.db.update(requests).set({ errorCode: code, errorMessage: message, sentAt: firstSentAt(sentAt) }).where(and(eq(requests.id, request.id), openStatus))
          return await waitForDomain(ctx, control)
        }
        // Bytes bound to a delegation hashed over another domain (signed before a restart adopted
        // the operator's new one): the session is not this operator's, its key is not in doubt.
        if (outcome === 'signerMismatch' && judged === 'sessionRefused') refusal = 'sessionInvalid'
      }
      // A deadline refused as too far ahead is checked before the replay rules (PROTOCOL.md §5): bytes
      // taken by an earlier send are refused so once the operator's clock steps back. NonceReused and
      // DeadlineExpired come after them: the operator never took these bytes.
      const readBeforeResign = refusal === 'resign' && code === 'InvalidRequest' && earlierMayHaveLanded && spec.tookEffect
      // A session refusal closes the request only once nothing says an earlier send was taken. A
      // refusal for good closes it in the transaction that ends the work (`settleFailed`): closed
      // alone, a crash before that left the work to run again, which signed and sent it anew.
      const forGood = refusal === 'terminal' || refusal === 'aclViolation'
      if (refusal !== 'sessionInvalid' && !forGood && !readBeforeResign) await closeRequest(deps.db, deps.now(), request.id, code, message, sentAt)
      switch (refusal) {
        case 'resign': {
          // A deadline refused as past: a clock may have stepped since the offset was measured.
          if (code === 'DeadlineExpired') await remeasureOperatorClock(deps)
          session = await deps.sessions.active(row.walletId)
          if (readBeforeResign) {
            const why = "its resend was refused for a deadline too far ahead of the operator's clock"
            if (session && (await spec.tookEffect!(ctx, session, request))) return acceptedByReadBack(ctx, spec, request, why)
            await closeRequest(deps.db, deps.now(), request.id, code, message, sentAt)
          }
          if (!session || resigns >= MAX_RESIGNS) throw error
          const signed = await signAgain(ctx, spec, control, session, request, fields)
          if ('result' in signed) return signed.result
          request = signed.request
          fields = signed.fields
          // Refused after the replay rules (the operator never took those bytes), or read back as not
          // taken: nothing sent before may have landed, and the new bytes were never sent.
          earlierMayHaveLanded = false
          continue
        }
        case 'sessionInvalid': {
          const reason = code === 'SignerMismatch'
            ? `operator answered SignerMismatch for a session granted under another EIP-712 domain: ${message}`
            : `operator answered SessionUnauthorized: ${message}`
          // At its expiry (by the operator's clock, give or take the signing margin) it expired: no failure.
          const status = await unauthorizedStatus(deps, request.sessionId)
          await markSessionRefused(deps, { walletId: row.walletId, sessionId: request.sessionId, status, reason })
          const current = await deps.sessions.active(row.walletId)
          const replaced = current && current.id !== request.sessionId ? current : undefined
          // An earlier send of these bytes may have been taken before the session ended (a modify
          // applied, its answer lost): read back with the current session, taken is accepted.
          const readBack = earlierMayHaveLanded && spec.tookEffect
          if (readBack && replaced && (await spec.tookEffect!(ctx, replaced, request))) return acceptedByReadBack(ctx, spec, request)
          // Signed under a session that has since been replaced (a rotation revoked it while this was
          // on the wire): the refusal had no effect, so the work goes out under the current session.
          if (replaced && resigns < MAX_RESIGNS) {
            await closeRequest(deps.db, deps.now(), request.id, code, message, sentAt)
            if (earlierMayHaveLanded) refusedMaybeTaken ??= request
            session = replaced
            const signed = await signAgain(ctx, spec, control, session, request, fields)
            if ('result' in signed) return signed.result
            request = signed.request
            fields = signed.fields
            earlierMayHaveLanded = false
            continue
          }
          // No session to read with: the request stays open as possibly taken (`unknown`) while the
          // work is held; released, the job reads it back before signing anything again.
          if (readBack) await markUnknown(deps, request.id, { code, message, sentAt })
          else await closeRequest(deps.db, deps.now(), request.id, code, message, sentAt)
          await deps.onSessionInvalid?.(row.walletId, request.sessionId, reason)
          return hold(ctx, spec, reason)
        }
        case 'signerMismatch':
          return sessionProblem(ctx, spec, request, 'quarantined', `operator answered SignerMismatch: ${message}`,
            { walletId: row.walletId, code: 'KEY_INTEGRITY', message: 'SignerMismatch: the stored session key is not the delegated one', details: { sessionId: request.sessionId } })
        case 'aclViolation':
          return settleFailed(ctx, spec, code, message, 'operator', { requestId: request.id, sentAt },
            { walletId: row.walletId, code: 'ACL_VIOLATION', message: `${spec.family} outside the delegation's scope`, details: { sessionId: request.sessionId } })
        case 'notOpen': {
          const answer = await spec.onNotOpen?.(ctx, session)
          if (refusedMaybeTaken && (await spec.tookEffectBeforeNotOpen?.(ctx, refusedMaybeTaken))) {
            await takenAfterAll(ctx, spec, refusedMaybeTaken, 'the request signed again after it found the order no longer open, ended as this one would have left it')
          }
          if (typeof answer === 'object') return await control.delay(answer.runAgainInMs)
          return settleDone(ctx, spec, answer || `${code}: ${message}`, 'notOpen')
        }
        case 'terminal':
          return settleFailed(ctx, spec, code, message, 'operator', { requestId: request.id, sentAt })
      }
    }
  }
}

/**
 * `taken`: a request of this work closed on a session refusal after an earlier send's answer was
 * lost, which this receipt (a duplicate for bytes never sent before: the cloid rule) says the
 * operator took. It is recorded accepted, as the operator answered it.
 */
async function accept<F extends RequestFamily>(ctx: SubmitContext, spec: FamilySpec<F>, request: RequestRow, receipt: Receipt, fields: Record<string, unknown>, sentAt: Date, taken?: RequestRow): Promise<void> {
  await ctx.deps.db.transaction(async (tx) => {
    // The order before its request, as every other writer takes them (the batched accept,
    // `settleFailed`, reconciliation's resubmit): the other way round, two of them could deadlock.
    if (ctx.row.orderId) await lockOrder(tx, { id: ctx.row.orderId })
    if (taken) await recordTaken(tx, ctx, spec, taken, 'the operator answered the request signed again after it with its receipt (duplicate)')
    const stored = { status: 'accepted' as const, receipt, duplicate: receipt.duplicate, completedAt: new Date(ctx.deps.now()), sentAt: firstSentAt(sentAt) }
    const open = await tx.update(requests).set(stored).where(and(eq(requests.id, request.id), ne(requests.status, 'rejected'))).returning({ id: requests.id })
    // Closed meanwhile by another run of the same work (a stop: a halt, a cancel asked) that read
    // it before these bytes went out: the operator took them all the same. Recorded as it answered,
    // without the closing words ("not resent"), and the family told (`closedBefore`).
    const closedBefore = open.length === 0
    if (closedBefore) await tx.update(requests).set({ ...stored, errorCode: null, errorMessage: null }).where(eq(requests.id, request.id))
    await spec.onAccepted(tx, ctx, { receipt, request, fields, closedBefore })
    await setOutboxStatus(tx, ctx.row.id, 'done')
  })
}

/** `recordTaken` in a transaction of its own. */
async function takenAfterAll<F extends RequestFamily>(ctx: SubmitContext, spec: FamilySpec<F>, taken: RequestRow, why: string): Promise<void> {
  await ctx.deps.db.transaction((tx) => recordTaken(tx, ctx, spec, taken, why))
}

/**
 * A request closed here on a session refusal (SessionUnauthorized for a resend, which says nothing of
 * an earlier send whose answer was lost) that the operator had in fact taken: recorded accepted, its
 * refusal cleared, and audited (`<family>.accepted`) with why it is known. Only while it is still
 * recorded rejected (as that refusal closed it).
 */
async function recordTaken<F extends RequestFamily>(tx: Db, ctx: SubmitContext, spec: FamilySpec<F>, taken: RequestRow, why: string): Promise<void> {
  const reason = `accepted after all: its answer was lost and its resend refused for its session, and ${why}`
  const flipped = await tx.update(requests).set({ status: 'accepted', errorCode: null, errorMessage: null })
    .where(and(eq(requests.id, taken.id), eq(requests.status, 'rejected'))).returning({ id: requests.id })
  if (flipped.length) await audit(tx, { walletId: ctx.row.walletId, actor: 'worker', action: `${spec.family}.accepted`, details: { outboxId: ctx.row.id, requestId: taken.id, reason } })
}

/**
 * A request that may have been taken, kept open as an answer lost (never closed as not accepted),
 * while it is open; with `refused`, the refusal of this send is recorded too.
 */
export async function markUnknown(deps: WorkerDeps, id: string, refused?: { code: string; message: string; sentAt: Date }): Promise<void> {
  const answer = refused ? { errorCode: refused.code, errorMessage: refused.message, sentAt: firstSentAt(refused.sentAt) } : {}
  await deps.db.update(requests).set({ status: 'unknown', ...answer }).where(and(eq(requests.id, id), openStatus))
}

/** The persisted wire body's delegation payload and the hash its message binds. */
function bodyOf(request: RequestRow): { delegation?: unknown; message?: { delegation?: unknown } } {
  try {
    return JSON.parse(request.body) as { delegation?: unknown; message?: { delegation?: unknown } }
  } catch {
    return {}
  }
}

/** Stop using the session, hold the wallet's work, and ask for a new session. */
async function sessionProblem<F extends RequestFamily>(ctx: SubmitContext, spec: FamilySpec<F>, request: RequestRow, status: 'revoked' | 'quarantined', reason: string, alert?: AlertEvent): Promise<SubmitResult> {
  await markSessionRefused(ctx.deps, { walletId: ctx.row.walletId, sessionId: request.sessionId, status, reason }, alert && { event: alert })
  await ctx.deps.onSessionInvalid?.(ctx.row.walletId, request.sessionId, reason)
  return hold(ctx, spec, reason)
}
