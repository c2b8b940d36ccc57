import type { Sandbox } from '../../../src/sandbox/startSandbox.js'
import type { OrderRow, OutboxRow, RequestRow } from '../../../src/store/schema/index.js'
import type { HaltRecord } from '../killSwitches.js'
import type { DrillView } from './drillView.js'
import type { Tally } from './tally.js'

/**
 * What the drill's kill switches explain, for the per-intent checks: a halt of the order's wallet
 * after the order was written (its halt's `haltedAt` after the order's `createdAt`).
 */
export function haltsExplaining(halts: HaltRecord[]) {
  const ofWallet = (walletId: string) => halts.filter((h) => h.walletId === walletId)
  /** A halt of the wallet that came after the order was queued (the order existed when it committed). */
  const haltAfter = (o: OrderRow) => ofWallet(o.walletId).some((h) => o.createdAt.getTime() <= h.haltedAt)
  return {
    /**
     * Never sent: the halt cancelled it while still pending (`cancelReason` halted), or, queued again
     * after the halt (a reconciliation's resubmission), it was settled unsent because a CancelAll (the
     * halt's: the drill asks no other) was asked after it was queued (`cancelReason` cancelAll).
     */
    cancelledBeforePlacement: (o: OrderRow) => o.state === 'cancelled' && o.venueOrderId === null && (o.cancelReason === 'halted' || o.cancelReason === 'cancelAll') && haltAfter(o),
    /**
     * Cancelled at the operator by a halt's CancelAll (reason `cancelAll`, while the wallet was
     * halted); or by its session's end (a rotation) and not placed again, with a halt after it was
     * queued (`replaceSessionOrder`: a CancelAll asked after the order was queued covers it). When
     * the worker applied the cancel cannot be told from `updated_at`, which is its transaction's start:
     * a batch of events that began before the halt and waited on the wallet's lock is stamped before
     * it, and yet saw the halt's CancelAll. Either way the user's halt ends the order: not placed again,
     * it is over; placed again before the halt, the replacement was queued before the halt's CancelAll,
     * which cancels it (the survivors check counts one it did not).
     */
    cancelledAtOperator: (o: OrderRow, cancel: { reason: unknown; at: number }) =>
      (cancel.reason === 'cancelAll' && ofWallet(o.walletId).some((h) => cancel.at >= h.haltAskedAt && cancel.at <= (h.resumedAt ?? Infinity))) ||
      ((cancel.reason === 'sessionRevoked' || cancel.reason === 'sessionExpired') && !o.replacedBy && haltAfter(o)),
    /** A modify queued before a halt and dropped unsent by it (`submitModifyOrder`: the halt dropped it, a resume does not bring it back). */
    droppedModify: (row: OutboxRow) => row.kind === 'ModifyOrder' && row.status === 'done' && /^(not resent: )?wallet halted/.test(row.lastError ?? '') &&
      ofWallet(row.walletId).some((h) => row.createdAt.getTime() <= h.haltedAt),
    /** A cancel the worker queued for an order that landed after a halt's CancelAll (`queueLateCancels`: reason halted, or cancelAll once resumed). */
    lateCancel: (o: OrderRow | undefined, row: OutboxRow) => o !== undefined && (row.payload.reason === 'halted' || row.payload.reason === 'cancelAll') && haltAfter(o),
  }
}
export type HaltExplanations = ReturnType<typeof haltsExplaining>

/** What the halt checks count (the problems must be zero) and what they saw. */
export type HaltOutcome = {
  halts: number
  /** Orders live at the operator when a halt's CancelAll was accepted that it did not end, and orders placed before a halt still live at the operator after the resume. */
  survivors: number
  /** Orders the operator accepted between a halt and its resume whose placement was signed after the halt. */
  placedWhileHalted: number
  /** Halts never resumed (refused for minutes), or resumed with no CancelAll of theirs at the operator. */
  unresolved: number
  /** Orders signed before a halt that the operator accepted after it (on the wire at the halt), all ended by the resume. */
  landedLate: number
  /** Orders a halt's CancelAll cancelled at the operator. */
  cancelledByCancelAll: number
  /** Resume calls refused before one was accepted. */
  resumeRefusals: number
}

/**
 * The kill switch's promises, from the operator's state (the in-process sandbox records when it
 * accepted each order and each CancelAll, what the CancelAll cancelled, and when an order ended) and
 * Postgres's requests (when each placement was signed):
 *  (1) every order live at the operator when the halt's CancelAll was accepted ended then, and an
 *      order signed before the halt that reached the operator after its CancelAll ended before the
 *      resume (none placed before the halt survives it);
 *  (2) no order signed after the halt reached the operator before the resume was asked.
 */
export function checkHalts(v: DrillView, sandbox: Sandbox, halts: HaltRecord[], placements: RequestRow[], t: Tally, checkedAt: number): HaltOutcome {
  const outcome: HaltOutcome = { halts: halts.length, survivors: 0, placedWhileHalted: 0, unresolved: 0, landedLate: 0, cancelledByCancelAll: 0, resumeRefusals: 0 }
  if (!halts.length) return outcome
  const receipts = [...sandbox.state.replays.values()]
  // When each placement was signed: the accepted request (by the operator's requestId), else the first.
  const signedAt = (order: OrderRow | undefined, requestId: string | undefined): number | undefined => {
    const mine = placements.filter((r) => r.orderId === order?.id)
    const accepted = mine.find((r) => (r.receipt as { requestId?: string } | null)?.requestId?.toLowerCase() === requestId?.toLowerCase())
    const times = (accepted ? [accepted] : mine).map((r) => r.createdAt.getTime())
    return times.length ? Math.min(...times) : undefined
  }
  for (const h of halts) {
    outcome.resumeRefusals += h.resumeRefusals
    const wallet = sandbox.state.wallets.get(h.walletKey)
    const cancelAll = receipts
      .filter((r) => r.family === 'CancelAll' && r.wallet.toLowerCase() === h.walletKey && r.acceptedAt >= h.haltAskedAt && r.acceptedAt <= (h.resumedAt ?? checkedAt))
      .sort((a, b) => a.acceptedAt - b.acceptedAt)[0]
    if (h.resumedAt === undefined || !cancelAll) {
      outcome.unresolved++
      t.note(`halt of ${h.walletId} at ${new Date(h.haltedAt).toISOString()}: ${h.resumedAt === undefined ? `never resumed (${h.resumeRefusals} refusals)` : 'resumed, and no CancelAll of it reached the operator'}`)
    }
    if (!wallet) continue
    const acceptedAt = new Map([...wallet.receiptsByCloid].map(([cloid, r]) => [cloid.toLowerCase(), r]))
    const cancelled = new Set((cancelAll?.cancelled ?? []).map((c) => c.toLowerCase()))
    outcome.cancelledByCancelAll += cancelled.size
    const resumedAt = h.resumedAt ?? checkedAt
    for (const [cloid, order] of wallet.orders) {
      const key = cloid.toLowerCase()
      const receipt = acceptedAt.get(key)
      if (!receipt) continue
      const endedAt = order.status === 'filled' || order.status === 'cancelled' ? order.updatedAt : Infinity
      const row = v.orderByCloid.get(key)
      const signed = signedAt(row, receipt.requestId)
      const signedBeforeHalt = signed !== undefined && signed < h.haltedAt
      const name = `order ${row?.id ?? '(not in Postgres)'} ${key} of halted wallet ${h.walletId} (halted ${new Date(h.haltAskedAt).toISOString()}–${new Date(h.haltedAt).toISOString()}, resumed ${h.resumedAt === undefined ? 'never' : new Date(h.resumedAt).toISOString()})`
      // (1) Live before the CancelAll, and it did not end it.
      if (cancelAll && receipt.acceptedAt < cancelAll.acceptedAt && endedAt > cancelAll.acceptedAt && !cancelled.has(key)) {
        outcome.survivors++
        t.note(`${name}: live at the operator when the halt's CancelAll was accepted (${new Date(cancelAll.acceptedAt).toISOString()}), ${order.status} after it`)
        t.explain(row, h.walletKey)
      }
      // (1) Signed before the halt, landed after its CancelAll: ended before the resume.
      if (cancelAll && signedBeforeHalt && receipt.acceptedAt >= cancelAll.acceptedAt) {
        if (receipt.acceptedAt < resumedAt) outcome.landedLate++
        if (endedAt > resumedAt) {
          outcome.survivors++
          t.note(`${name}: signed before the halt, accepted at the operator after its CancelAll (${new Date(receipt.acceptedAt).toISOString()}), ${order.status === 'filled' || order.status === 'cancelled' ? `${order.status} only at ${new Date(endedAt).toISOString()}` : `still ${order.status}`}, after the resume`)
          t.explain(row, h.walletKey)
        }
      }
      // (2) Accepted while halted, signed after the halt (or not by Deputy at all).
      if (receipt.acceptedAt > h.haltedAt && receipt.acceptedAt < (h.resumeAskedAt ?? checkedAt) && !signedBeforeHalt) {
        outcome.placedWhileHalted++
        t.note(`${name}: accepted at the operator at ${new Date(receipt.acceptedAt).toISOString()}, while halted; signed ${signed === undefined ? 'by no request in Postgres' : new Date(signed).toISOString()}`)
        t.explain(row, h.walletKey)
      }
    }
  }
  return outcome
}
