import type { Hex } from 'viem'
import { covers } from '../../core/acl/covers.js'
import { parseAmount } from '../../core/money/decimal.js'
import { type ClaimedOrder, claimPendingOrders } from '../../store/repositories/claimPendingOrders.js'
import { type AcceptedOrder, recordAcceptedOrders } from '../../store/repositories/recordAcceptedOrders.js'
import { type SignedRequestInput, insertSignedRequests } from '../../store/repositories/insertSignedRequests.js'
import type { RequestRow } from '../../store/schema/index.js'
import type { Receipt } from '../../venue/types.js'
import type { WorkerDeps } from '../deps.js'
import { type ActiveSession, SIGNING_MARGIN_SECONDS } from '../sessionSigners.js'
import { groupCommit } from '../groupCommit.js'
import { loadSubmitContext } from './loadSubmitContext.js'
import { type FirstSend, deliver } from './deliver.js'
import { type JobControl, runSubmission } from './runSubmission.js'
import { logSigned, signedRequestRow } from './signAndPersist.js'
import type { FamilySpec, SubmitResult } from './types.js'

/**
 * Order submission with its Postgres writes shared between the jobs running at
 * the same moment (`groupCommit`): one statement claims every pending Order of
 * the jobs that arrived together, one inserts their signed requests, one
 * transaction records their receipts. Each job still signs and sends its own
 * request, and answers its own result.
 *
 * This is the same recipe as `runSubmission`, for its common case only: a fresh
 * Order of a wallet with an active session whose scope covers it. Anything else,
 * and any failure of a shared write, goes to `runSubmission` for that job, which
 * resumes from what was persisted (a claimed order is claimed again, a persisted
 * request is resent byte for byte). An operator error on the send is handled by
 * the same code as one by one (`deliver`), with the outcome already in hand.
 */
export function createBatchedOrders(deps: WorkerDeps, spec: FamilySpec<'Order'>) {
  const claim = groupCommit(async (outboxIds: string[]) => {
    const minExpiry = Math.floor(deps.operatorNow() / 1000) + SIGNING_MARGIN_SECONDS
    const claimed = new Map((await claimPendingOrders(deps.db, outboxIds, minExpiry)).map((c) => [c.outboxId, c]))
    // A job that runs twice at once (a stalled job re-run) gets the claim once.
    return outboxIds.map((id) => {
      const one = claimed.get(id)
      claimed.delete(id)
      return one
    })
  })
  const persist = groupCommit((rows: SignedRequestInput[]) => insertSignedRequests(deps.db, rows))
  const record = groupCommit(async (accepted: AcceptedOrder[]) => {
    const recorded = await recordAcceptedOrders(deps.db, accepted, new Date(deps.now()))
    return accepted.map((a) => recorded.has(a.orderId))
  })

  /** The job's own path when the batched one does not apply (or a shared write failed). */
  const oneByOne = (outboxId: string, control: JobControl) => runSubmission(deps, outboxId, spec, control)
  /** The one-by-one send loop, from a request already signed, persisted and sent once (`firstSend`). */
  const deliverFrom = async (outboxId: string, control: JobControl, signed: Parameters<typeof deliver>[3], firstSend: FirstSend) => {
    const ctx = await loadSubmitContext(deps, outboxId)
    return ctx ? deliver(ctx, spec, control, signed, firstSend) : oneByOne(outboxId, control)
  }

  return async function submitOrder(outboxId: string, control: JobControl): Promise<SubmitResult> {
    // The operator verifies over another EIP-712 domain: nothing is signed; the one-by-one path waits.
    if (deps.operatorDomain?.changed()) return oneByOne(outboxId, control)
    let claimed: ClaimedOrder | undefined
    try {
      claimed = await claim(outboxId)
    } catch (error) {
      deps.log.warn({ err: error, outboxId }, 'batched Order claim failed; submitting one by one')
    }
    const session = claimed && (await sessionFor(deps, claimed))
    // A rate-limited session's work waits in the one-by-one path (which delays the job).
    if (!claimed || !session || !covers(session.aclScope, 'Order') || deps.rateLimits.waitMs(session.id) > 0) return oneByOne(outboxId, control)

    const fields = {
      market: claimed.market,
      side: claimed.side,
      price: parseAmount('price', claimed.price),
      size: parseAmount('size', claimed.size),
      timeInForce: claimed.timeInForce,
      clientOrderId: claimed.clientOrderId as Hex,
    }
    const refusal = deps.policy && await deps.policy({
      walletId: claimed.walletId, sessionId: session.id, orderId: claimed.orderId, outboxId, family: 'Order',
      market: fields.market, side: fields.side, price: fields.price, size: fields.size, ...(claimed.hasPolicy ? {} : { noStoredRules: true }),
    })
    // A refusal is recorded by the one-by-one path, which checks again after claiming again.
    if (refusal) return oneByOne(outboxId, control)

    let request: RequestRow | undefined
    try {
      request = await persist(signedRequestRow(deps, session, 'Order', fields, { walletId: claimed.walletId, orderId: claimed.orderId, outboxId }))
    } catch (error) {
      // Nothing of the batch was persisted (one statement): the orders are claimed, which the
      // one-by-one claim accepts, and are signed again there with fresh nonces.
      deps.log.warn({ err: error, outboxId }, 'batched request insert failed; submitting one by one')
      return oneByOne(outboxId, control)
    }
    // The wallet was halted since the claim: not persisted, never sent; the one-by-one claim settles it.
    if (!request) return oneByOne(outboxId, control)
    logSigned(deps, request, session)

    let receipt: Receipt
    const sentAt = new Date(deps.now())
    try {
      receipt = await deps.venue.submit(request.body)
    } catch (error) {
      return deliverFrom(outboxId, control, { request, session, fields }, { sentAt, outcome: () => Promise.reject(error) })
    }
    const accepted = { outboxId, orderId: claimed.orderId, requestId: request.id, sessionId: session.id, receipt, sentAt }
    // Its order may be locked by the event consumer applying the order's first fill: the next
    // shared write takes it, and a second miss waits its turn one by one.
    let recorded = false
    for (let attempt = 0; attempt < 2 && !recorded; attempt++) {
      recorded = await record(accepted).catch((error: unknown) => {
        deps.log.warn({ err: error, outboxId }, 'batched receipt write failed')
        return false
      })
    }
    if (!recorded) return deliverFrom(outboxId, control, { request, session, fields }, { sentAt, outcome: () => Promise.resolve(receipt) })
    return { result: 'accepted', duplicate: receipt.duplicate, requestId: request.id }
  }
}

/** The claimed session, unsealed (from this process's cache, or read and unsealed once). */
async function sessionFor(deps: WorkerDeps, claimed: ClaimedOrder): Promise<ActiveSession | undefined> {
  const session = deps.sessions.unsealed(claimed.sessionId) ?? (await deps.sessions.active(claimed.walletId))
  return session?.id === claimed.sessionId ? session : undefined
}
