import { eq } from 'drizzle-orm'
import type { Hex } from 'viem'
import { isCount } from '../core/orders/eventProblem.js'
import { fillReadProblem, readClientOrderId } from '../core/orders/readProblem.js'
import { lockOrderUnchangedSince } from '../store/repositories/lockOrderUnchangedSince.js'
import { mutateOrder } from '../store/repositories/mutateOrder.js'
import { postgresNow } from '../store/repositories/postgresNow.js'
import { recordFill } from '../store/repositories/recordFill.js'
import { streamCursors } from '../store/schema/index.js'
import { snapshotUpdate } from '../venue/snapshotUpdate.js'
import type { VenueFill } from '../venue/types.js'
import { checkedOrderRead } from './checkedOrderRead.js'
import type { WorkerDeps } from './deps.js'
import { type RecordRepair, orderRepairs } from './orderRepairs.js'
import { alertUnappliableRead } from './unappliableRead.js'
import type { ActiveSession } from './sessionSigners.js'

export type BackfillOptions = {
  since?: bigint
  /**
   * Called with each repair (`fill.backfilled` for a new fill, and `orderRepairs`' for what the
   * order's read changed) inside the transaction that makes it: the reconciler's audit entry, so a
   * repair is never stored without it, even when a later order's read fails.
   */
  onRepair?: RecordRepair
}

export type Backfill = {
  /** The fills that were new. */
  added: VenueFill[]
  /**
   * The highest seq up to which every fill listed is stored now (recorded by this or before it):
   * the seq before the lowest one left unstored (passed over, or its order's read unappliable or
   * changed since), else the highest listed, else where the read started. None when one left
   * unstored has no seq that can be read. Fills at or below where the read started are not listed.
   */
  storedThrough: bigint | undefined
}

/**
 * Records the wallet's fills that the operator reports after the stored stream
 * cursor (or after `since`) and that are not stored yet (the stream was down, or a read-back found
 * an order further along than the events applied so far). Each fill is counted
 * once on its order, by fill id, whichever of this and the stream comes first.
 * Answers the fills that were new.
 *
 * Such fills run ahead of the events the stream has applied, and may follow a
 * modify it has not applied either: counted against the order's old size, a
 * fill could complete it, a final state in which that modify's event changes
 * nothing, and the order would keep its old price and size for good. So each
 * order is first brought to the operator's view, read after the fills were
 * listed (its revision, price, size and status cover every one of them), in
 * the transaction that counts its fills. An order that changed after that read
 * is left to the stream and the next run: a read older than Postgres's view
 * must not move it back. A fill, or an order's read, that cannot be applied (a malformed field)
 * is passed over with a READ_UNAPPLIABLE alert, the order's fills with its read, as is a fill that would
 * take its order's totals past what is stored (`uncountableFill`): the rest are recorded.
 * Answers those recorded, and up to which seq every fill listed is stored (`storedThrough`).
 */
export async function backfillFills(deps: WorkerDeps, session: ActiveSession, options: BackfillOptions = {}): Promise<Backfill> {
  const { walletId } = session
  const auth = deps.sessions.readAuth(session)
  const [cursor] = await deps.db.select({ lastSeq: streamCursors.lastSeq }).from(streamCursors).where(eq(streamCursors.walletId, walletId))
  const since = options.since ?? BigInt(cursor?.lastSeq ?? 0)
  const byOrder = new Map<Hex, VenueFill[]>()
  let highest = since
  // The lowest seq of a fill left unstored; null once one such has no readable seq.
  let lowestUnstored: bigint | null | undefined
  const unstored = (seq: unknown) => {
    const at = seqOf(seq)
    if (lowestUnstored !== null) lowestUnstored = at === undefined ? null : minOf(lowestUnstored, at)
  }
  for (const fill of await deps.venue.fills(auth, since)) {
    const seq = (fill as { seq?: unknown } | null)?.seq
    const at = seqOf(seq)
    if (at !== undefined && at > highest) highest = at
    // One that cannot be recorded is passed over, alerted: the others are, and the next run reads it again.
    const problem = fillReadProblem(fill)
    if (problem) {
      unstored(seq)
      const fillId = (fill as { fillId?: unknown } | null)?.fillId
      alertUnappliableRead(deps, walletId, { clientOrderId: readClientOrderId(fill), fillId: typeof fillId === 'string' ? fillId : null, problem })
      continue
    }
    const cloid = fill.clientOrderId.toLowerCase() as Hex
    const listed = byOrder.get(cloid)
    if (listed) listed.push(fill)
    else byOrder.set(cloid, [fill])
  }
  const added: VenueFill[] = []
  for (const [cloid, orderFills] of byOrder) {
    const readAt = await postgresNow(deps.db)
    const read = await checkedOrderRead(deps, auth, { walletId, clientOrderId: cloid })
    // Its fills are counted only once the order is at the operator's read (above): left for now.
    if (read === 'unappliable') {
      for (const fill of orderFills) unstored(fill.seq)
      continue
    }
    const seen = read === 'unknown' ? undefined : read
    const fresh = await deps.db.transaction(async (tx) => {
      const current = await lockOrderUnchangedSince(tx, { walletId, clientOrderId: cloid }, readAt)
      if (current === 'changed') return { recorded: [], uncountable: [], left: orderFills }
      // A missing order (an orphan not adopted yet) gets its fills stored unlinked, as before.
      const changed = current === 'unchanged' && seen ? await mutateOrder(tx, { walletId, clientOrderId: cloid }, [snapshotUpdate(seen)]) : undefined
      for (const { action, details } of changed ? orderRepairs(changed) : []) await options.onRepair?.(tx, action, details)
      const recorded: VenueFill[] = []
      const uncountable: { fillId: string; problem: string; seq: string }[] = []
      for (const fill of orderFills) {
        const outcome = await recordFill(tx, {
          walletId, fillId: fill.fillId, clientOrderId: fill.clientOrderId, market: fill.market, side: fill.side ?? 0, // the order's side wins when the order is known (recordFill)
          price: fill.price, size: fill.size, fee: fill.fee, seq: Number(fill.seq), at: new Date(fill.at),
        })
        // One its order cannot count (`uncountableFill`) is not stored: passed over, alerted below.
        if (typeof outcome === 'object') uncountable.push({ fillId: fill.fillId, problem: outcome.uncountable, seq: fill.seq })
        if (outcome !== 'counted') continue
        await options.onRepair?.(tx, 'fill.backfilled', { fillId: fill.fillId, clientOrderId: fill.clientOrderId })
        recorded.push(fill)
      }
      return { recorded, uncountable, left: [] }
    })
    for (const { fillId, problem, seq } of fresh.uncountable) {
      unstored(seq)
      alertUnappliableRead(deps, walletId, { clientOrderId: cloid, fillId, problem })
    }
    for (const fill of fresh.left) unstored(fill.seq)
    added.push(...fresh.recorded)
  }
  const storedThrough = lowestUnstored === null ? undefined : lowestUnstored === undefined ? highest : minOf(highest, lowestUnstored - 1n)
  return { added, storedThrough }
}

const minOf = (a: bigint | undefined, b: bigint): bigint => (a === undefined || b < a ? b : a)
/** A fill's seq as read (a number or a decimal string), when it is one (`fillReadProblem`'s rule). */
const seqOf = (seq: unknown): bigint | undefined => (isCount(seq, Number.MAX_SAFE_INTEGER) ? BigInt(seq as string | number) : undefined)
