import type { RequestFamily } from '../../core/acl/actions.js'
import type { RequestMessages, VenueRequest } from '../../core/eip712/types.js'
import { buildRequest } from '../../core/requests/buildRequest.js'
import { shortDeadlineMs } from '../../core/requests/shortDeadlineMs.js'
import { signWireRequest } from '../../keys/signWireRequest.js'
import { isUniqueViolation } from '../../store/isUniqueViolation.js'
import { type SignedRequestInput, insertSignedRequests } from '../../store/repositories/insertSignedRequests.js'
import { desc, eq } from 'drizzle-orm'
import { openRequestOf } from '../../store/repositories/openRequestOf.js'
import { type RequestRow, outbox, requests } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import type { ActiveSession } from '../sessionSigners.js'

/** A submission's deadline: 30 s ahead on the operator's clock, or less (`shortDeadlineMs`). */
export function requestDeadline(deps: Pick<WorkerDeps, 'operatorNow' | 'maxDeadlineMs'>): bigint {
  return BigInt(Math.floor(deps.operatorNow()) + shortDeadlineMs(deps.maxDeadlineMs, 30_000))
}

/**
 * Builds and signs one request with a fresh nonce, and persists the exact bytes
 * before anything is sent: after a crash or a lost response the same bytes are
 * resent, and the operator answers a replay with the original receipt.
 *
 * One open request per outbox row: the row is locked while it is checked and
 * the new request inserted, and a request another run of the same row left
 * open (signed, sent or unknown) is answered instead of signing a second one.
 * A stalled job that BullMQ runs again beside the original would otherwise send
 * two different requests for one modification, both accepted, and the later
 * could land after the order's next modify and undo it.
 *
 * A placement or a modification of an order whose wallet was halted since its claim is not
 * persisted (`insertSignedRequests`): `HaltedBeforeSigningError`, and the caller settles the work
 * by its claim (`settleHaltedBeforeSigning`).
 */
export async function signAndPersist<F extends RequestFamily>(
  deps: WorkerDeps,
  session: ActiveSession,
  family: F,
  fields: Record<string, unknown>,
  link: RequestLink,
): Promise<RequestRow> {
  // Workers in other processes draw nonces from their own clocks, so two can draw the same one for
  // a session key; the unique key on (session, nonce) catches it before anything is sent.
  for (let attempt = 1; ; attempt++) {
    try {
      const { row, fresh } = await deps.db.transaction(async (tx) => {
        const [work] = await tx.select({ id: outbox.id, status: outbox.status }).from(outbox).where(eq(outbox.id, link.outboxId)).for('update')
        const open = await openRequestOf(tx, link.outboxId)
        if (open) return { row: open, fresh: false }
        // The other run already finished it (its request answered, the row settled): signing again
        // would send the change a second time, and a stale modify could undo the order's next one.
        if (work?.status === 'done' || work?.status === 'failed') {
          const [latest] = await tx.select().from(requests).where(eq(requests.outboxId, link.outboxId)).orderBy(desc(requests.createdAt)).limit(1)
          throw new SettledMeanwhileError(link.outboxId, work.status, latest)
        }
        const [inserted] = await insertSignedRequests(tx, [signedRequestRow(deps, session, family, fields, link)])
        if (!inserted) throw new HaltedBeforeSigningError(link.outboxId)
        return { row: inserted, fresh: true }
      })
      if (fresh) logSigned(deps, row, session)
      return row
    } catch (error) {
      if (attempt >= MAX_NONCE_DRAWS || !isUniqueViolation(error, 'requests_session_nonce_unique')) throw error
    }
  }
}

const MAX_NONCE_DRAWS = 5

/** Another run of the same work (a stalled job re-run beside the original) settled it first. */
export class SettledMeanwhileError extends Error {
  override name = 'SettledMeanwhileError'
  constructor(readonly outboxId: string, readonly status: 'done' | 'failed', readonly latest: RequestRow | undefined) {
    super(`work ${outboxId} was settled (${status}) by another run while this one was getting ready to sign`)
  }
}

/** The wallet was halted between the work's claim and its signature: nothing was persisted, nothing is sent. */
export class HaltedBeforeSigningError extends Error {
  override name = 'HaltedBeforeSigningError'
  constructor(readonly outboxId: string) {
    super(`work ${outboxId}: the wallet was halted after it was claimed; not signed`)
  }
}

export function logSigned(deps: Pick<WorkerDeps, 'log'>, row: RequestRow, session: ActiveSession): void {
  // The key object prints its public key only; the log-scan test holds it to that.
  deps.log.debug({ requestId: row.id, family: row.family, sessionId: session.id, key: session.key, nonce: String(row.nonce) }, 'request signed and persisted')
}

export type RequestLink = { walletId: string; orderId: string | null; outboxId: string }

/** Builds and signs one request with a fresh nonce: the `requests` row to persist before sending. */
export function signedRequestRow<F extends RequestFamily>(
  deps: Pick<WorkerDeps, 'nonces' | 'operatorNow' | 'maxDeadlineMs' | 'domain'>,
  session: ActiveSession,
  family: F,
  fields: Record<string, unknown>,
  link: RequestLink,
): SignedRequestInput {
  const message = {
    ...fields,
    delegation: session.delegationHash,
    wallet: session.wallet,
    nonce: deps.nonces.next(),
    deadline: requestDeadline(deps),
  } as unknown as RequestMessages[F]
  const request = buildRequest(family, message) as VenueRequest
  const body = signWireRequest(session.key, deps.domain, request, session.payload)
  return {
    walletId: link.walletId,
    sessionId: session.id,
    orderId: link.orderId,
    outboxId: link.outboxId,
    family,
    nonce: message.nonce,
    deadline: Number(message.deadline),
    body,
  }
}
