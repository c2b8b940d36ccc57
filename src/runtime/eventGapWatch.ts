import type { VenueEvent } from '../venue/types.js'
import type { WorkerDeps } from './deps.js'

/**
 * Per wallet, the gap its event stream last met: a gap is met again on each reconnect until the
 * operator sends the missing event (the stream resumes before it), and every later event of the
 * wallet waits behind it, session ends among them (which re-place the orders they cancelled). One
 * that lasts `alertAfterMs` is not an event lost in flight but one the operator does not send: a
 * person is told (EVENT_GAP_STALLED), once for that gap. Events applied from the missing seq on clear it.
 */
export function createEventGapWatch(deps: Pick<WorkerDeps, 'log' | 'alert' | 'now'>, alertAfterMs: number) {
  /** Per wallet: the first seq missing at the gap its stream last met, since when, and whether a person was told. */
  const gaps = new Map<string, { expected: bigint; since: number; alerted: boolean }>()
  return {
    /** The stream met a gap: `expected` is the first seq missing, `got` the one that came (undefined: a frame it could not read). */
    met(walletId: string, expected: bigint, got: bigint | undefined): void {
      deps.log.warn({ walletId, expected: String(expected), got: got === undefined ? 'unreadable frame' : String(got) }, 'event gap; resuming from the last stored seq')
      const now = deps.now()
      const gap = gaps.get(walletId)
      if (gap?.expected !== expected) {
        gaps.set(walletId, { expected, since: now, alerted: false })
        return
      }
      if (gap.alerted || now - gap.since < alertAfterMs) return
      gap.alerted = true
      deps.alert({
        walletId, code: 'EVENT_GAP_STALLED',
        message: `the operator has not sent event ${expected} for ${Math.round((now - gap.since) / 1000)} s (the stream, resumed after ${expected - 1n}, gets ${got === undefined ? 'a frame it cannot read' : got}): every later event of the wallet waits behind the gap, session ends among them; reconciliation keeps orders and fills right meanwhile`,
        details: { seq: String(expected) },
      })
    },
    /** A batch of the wallet's events was applied: one reaching the first missing seq filled the gap. */
    applied(walletId: string, batch: readonly VenueEvent[]): void {
      const gap = gaps.get(walletId)
      if (gap && batch.length && BigInt(batch[batch.length - 1]!.seq) >= gap.expected) gaps.delete(walletId)
    },
  }
}
