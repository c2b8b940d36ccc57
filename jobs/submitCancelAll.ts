/**
 * Processor: submit a CancelAll (the kill switch, per market or `""` for every market).
 * - Payload: `SubmitJobData` { outboxId, walletId, family: 'CancelAll' }; the outbox row's payload
 *   carries `{ market }`.
 * - Reads: outbox row, active session.
 * - Writes: a `requests` row with the signed bytes before sending; on accept every cloid the receipt
 *   lists as cancelled → order cancelled (reason `cancelAll`); outbox → done/failed/held.
 * - Errors and retries: as every submission (`runSubmission`).
 * - Idempotency key: the outbox id; a CancelAll is naturally idempotent at the operator.
 */
import { audit } from '../src/store/repositories/audit.js'
import { mutateOrder } from '../src/store/repositories/mutateOrder.js'
import type { FamilySpec } from '../src/runtime/submission/types.js'

export const submitCancelAllSpec: FamilySpec<'CancelAll'> = {
  family: 'CancelAll',
  async claim(_tx, { row }) {
    const market = typeof row.payload.market === 'string' ? row.payload.market : ''
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
