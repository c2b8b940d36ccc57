import type { RequestFamily } from '../../core/acl/actions.js'
import type { RequestMessages } from '../../core/eip712/types.js'
import type { Db } from '../../store/Database.js'
import type { OrderRow, OutboxRow, RequestRow } from '../../store/schema/index.js'
import type { Receipt } from '../../venue/types.js'
import type { WorkerDeps } from '../deps.js'
import type { ActiveSession } from '../sessionSigners.js'

type Bound = 'delegation' | 'wallet' | 'nonce' | 'deadline'

/** How a processor hands control back to BullMQ; never returns. */
export type JobControl = {
  /** Re-run this job after `ms` without counting an attempt. */
  delay(ms: number): Promise<never>
}

/** What a processor decides before anything is signed. */
export type Claim<F extends RequestFamily> =
  | { kind: 'proceed'; fields: Omit<RequestMessages[F], Bound>; policy: { market: string; side?: 0 | 1; price?: bigint; size?: bigint } }
  /**
   * Nothing to send (already done, or the target is not open); recorded with the reason.
   * `standsDownFor`: the other work (its outbox id) that did what this one was to do.
   */
  | { kind: 'done'; reason: string; standsDownFor?: string }
  /** An earlier step for the same order has not been acknowledged yet. */
  | { kind: 'wait'; reason: string }
  /** Another run of the same work (its job beside the cancel lane's) settled it meanwhile: nothing is recorded again. */
  | { kind: 'settledElsewhere'; reason: string }

export type SubmitContext = { deps: WorkerDeps; row: OutboxRow; order: OrderRow | undefined }

/** The family-specific parts of a submission; the recipe is shared. */
export type FamilySpec<F extends RequestFamily> = {
  family: F
  /** Cancels may settle an order whose placement is held for a session, instead of waiting. */
  settlesHeldWork?: boolean
  /**
   * What must be read from the operator before the claim (outside its transaction), with the
   * session that will sign: answers the context the claim then reads.
   */
  beforeClaim?(ctx: SubmitContext, session: ActiveSession): Promise<SubmitContext>
  /** Compare-and-set on the order's state, or decide there is nothing to do. */
  claim(tx: Db, ctx: SubmitContext): Promise<Claim<F>>
  /**
   * Why work signed earlier must not go out again now (a halt, a cancel or CancelAll asked since),
   * or null. Asked before persisted bytes are resent and before the work is signed anew.
   */
  stopsResend?(tx: Db, ctx: SubmitContext): Promise<string | null>
  /**
   * Work the active session's scope does not cover that has already taken effect without a request
   * of its own: answers why (it is then done, neither held for a scope change nor refused).
   */
  doneWithoutScope?(ctx: SubmitContext): string | null
  /**
   * Work held for a scope change whatever the wallet's signer (the reconciler's cancel of
   * an order live at the operator, an orphan's or one recorded ended here: nobody waits for its
   * answer, and failed it would leave the order live there): answers what it is, which its held
   * note (the API's `work[].note`) starts with; null for other work. Without a signer, session
   * maintenance alerts SESSION_SCOPE until a rotation through the API releases it.
   */
  holdsForScope?(ctx: SubmitContext): string | null
  /**
   * Bytes whose answer was lost, bound to a session that has since ended (so never resent): whether
   * the operator took them, read back with `session`. Taken, the work is done as accepted instead of
   * being signed again under the current session (a modify would be applied twice).
   */
  tookEffect?(ctx: SubmitContext, session: ActiveSession, request: RequestRow): Promise<boolean>
  /**
   * The work was signed again after `refused` (closed on a session refusal, an earlier send of it
   * with its answer lost), and the operator answered the new request that the target is not open
   * (`onNotOpen` has read it back): whether that says the operator took `refused`.
   */
  tookEffectBeforeNotOpen?(ctx: SubmitContext, refused: RequestRow): Promise<boolean>
  /** Called when the work cannot go out now (no valid session) and will be released later. */
  unclaim?(tx: Db, ctx: SubmitContext): Promise<void>
  /**
   * The operator took the request. `closedBefore`: this run's send went out after another run of the
   * same work had closed the request here (stopped it, say for a halt) and settled the work as never sent.
   */
  onAccepted(tx: Db, ctx: SubmitContext, accepted: { receipt: Receipt; request: RequestRow; fields: Record<string, unknown>; closedBefore?: boolean }): Promise<void>
  /** The request definitely did not take effect, and will not be retried. */
  onRejected(tx: Db, ctx: SubmitContext, code: string, message: string): Promise<void>
  /** The request may have taken effect: the order's state is unknown until resolved. */
  onUnknown?(tx: Db, ctx: SubmitContext): Promise<void>
  /**
   * Bytes whose answer was lost are not resent (a halt, a cancel or a CancelAll asked since): the
   * order stays unknown. Best effort, to learn now what reconciliation would learn later.
   */
  onNotResent?(ctx: SubmitContext, session: ActiveSession | undefined): Promise<void>
  /**
   * The operator says the target order is not open: read it and record what it is. May answer the
   * reason to record (what the user reads), instead of the operator's error, or that the job runs
   * again (its row now names another order, or it waits for the stream to say why the order ended).
   */
  onNotOpen?(ctx: SubmitContext, session: ActiveSession | undefined): Promise<string | { runAgainInMs: number } | void>
}

export type SubmitResult =
  | { result: 'accepted'; duplicate: boolean; requestId: string }
  | { result: 'done'; reason: string }
  | { result: 'held'; reason: string }
  | { result: 'rejected'; code: string }
