/**
 * Processor: submit a CancelAll (the kill switch, per market or `""` for every market).
 * - Payload: `SubmitJobData` { outboxId, walletId, family: 'CancelAll' }; the outbox row's payload
 *   carries `{ market }`.
 * - Reads: outbox row, active session; with a session whose scope has CancelOrder but not
 *   CancelAll, the wallet's orders that may be live.
 * - Writes: with such a session (not for a compromise), a CancelOrder per such order instead and the
 *   CancelAll settled done (`CancelAll.oneByOne` audit); otherwise a `requests` row with the signed bytes before sending; on accept every cloid the receipt
 *   lists as cancelled → order cancelled (reason `cancelAll`); outbox → done/failed/held.
 * - Errors and retries: as every submission (`runSubmission`).
 * - Idempotency key: the outbox id (its claim locks the row: a run beside it, the cancel lane's,
 *   finding it settled records nothing); a CancelAll is naturally idempotent at the operator.
 */
import { and, eq, sql } from 'drizzle-orm'
import { covers } from '../src/core/acl/covers.js'
import type { Db } from '../src/store/Database.js'
import { audit } from '../src/store/repositories/audit.js'
import { mutateOrder } from '../src/store/repositories/mutateOrder.js'
import type { FamilySpec } from '../src/runtime/submission/types.js'
import { type OutboxRow, sessions } from '../src/store/schema/index.js'
import { settledByAnotherRun } from '../src/store/repositories/outboxRepo.js'

export const submitCancelAllSpec: FamilySpec<'CancelAll'> = {
  family: 'CancelAll',
  async claim(tx, { row }) {
    // Its row first: the cancel lane runs an overdue halt's CancelAll beside its job, and both
    // claims would otherwise queue the one-by-one cancels (and audit them) twice.
    const settled = await settledByAnotherRun(tx, row.id)
    if (settled) return { kind: 'settledElsewhere', reason: settled }
    const market = typeof row.payload.market === 'string' ? row.payload.market : ''
    // A session granted without CancelAll (the user chose its scope) still cancels each order: the
    // kill switch and a cancel-all do what they say. Not a compromise's: revoking its sessions
    // cancels their orders at the operator.
    const [session] = await tx.select({ aclScope: sessions.aclScope }).from(sessions)
      .where(and(eq(sessions.walletId, row.walletId), eq(sessions.status, 'active'))).limit(1)
    if (session && row.payload.reason !== 'compromise' && !covers(session.aclScope, 'CancelAll') && covers(session.aclScope, 'CancelOrder')) {
      const queued = await queueCancelsInstead(tx, row, market)
      await audit(tx, { walletId: row.walletId, actor: 'worker', action: 'CancelAll.oneByOne', details: { market, scope: session.aclScope, queued } })
      return { kind: 'done', reason: `the session's scope [${session.aclScope.join(', ')}] has no CancelAll: ${queued} CancelOrder(s) queued instead` }
    }
    return { kind: 'proceed', fields: { market }, policy: { market } }
  },
  async onAccepted(tx, { row }, { receipt }) {
    for (const clientOrderId of receipt.cancelled ?? []) {
      await mutateOrder(tx, { walletId: row.walletId, clientOrderId }, [{ kind: 'cancelled', reason: 'cancelAll' }])
    }
    await audit(tx, { walletId: row.walletId, actor: 'worker', action: 'CancelAll.accepted', details: { market: row.payload.market ?? '', cancelled: receipt.cancelled?.length ?? 0 } })
  },
  async onRejected(tx, { row }, code, message) {
    await audit(tx, { walletId: row.walletId, actor: 'worker', action: 'CancelAll.rejected', details: { code, message } })
  },
}

/**
 * A CancelOrder for each of the wallet's orders that may be live at the operator (in the market, or
 * every one for `""`), reason `halted` for the kill switch and `cancelAll` otherwise. One still on its
 * way (submitting, unknown) is cancelled once its placement is answered, as any cancel; one not sent
 * yet is stopped at its claim by the halt or by this CancelAll. Answers how many were queued.
 */
async function queueCancelsInstead(tx: Db, row: OutboxRow, market: string): Promise<number> {
  const reason = row.payload.reason === 'killSwitch' ? 'halted' : 'cancelAll'
  const { rows } = await tx.execute<{ id: string }>(sql`
    insert into outbox (wallet_id, kind, order_id, payload)
    select o.wallet_id, 'CancelOrder', o.id, jsonb_build_object('reason', ${reason}::text)
    from orders o
    where o.wallet_id = ${row.walletId} and o.state in ('open', 'partially_filled', 'submitting', 'unknown')
      and (${market} = '' or o.market = ${market})
    order by o.id
    returning id`)
  return rows.length
}
