import { eq } from 'drizzle-orm'
import { recordFill } from '../store/repositories/recordFill.js'
import { streamCursors } from '../store/schema/index.js'
import type { VenueFill } from '../venue/types.js'
import type { WorkerDeps } from './deps.js'
import type { ActiveSession } from './sessionSigners.js'

/**
 * Records the wallet's fills that the operator reports after the stored stream
 * cursor and that are not stored yet (the stream was down, or a read-back found
 * an order further along than the events applied so far). Each fill is counted
 * once on its order, by fill id, whichever of this and the stream comes first.
 * Answers the fills that were new.
 */
export async function backfillFills(deps: WorkerDeps, session: ActiveSession): Promise<VenueFill[]> {
  const { walletId } = session
  const [cursor] = await deps.db.select({ lastSeq: streamCursors.lastSeq }).from(streamCursors).where(eq(streamCursors.walletId, walletId))
  const added: VenueFill[] = []
  for (const fill of await deps.venue.fills(deps.sessions.readAuth(session), BigInt(cursor?.lastSeq ?? 0))) {
    const isNew = await deps.db.transaction((tx) => recordFill(tx, {
      walletId, fillId: fill.fillId, clientOrderId: fill.clientOrderId, market: fill.market, side: fill.side === 1 ? 1 : 0,
      price: fill.price, size: fill.size, fee: fill.fee, seq: Number(fill.seq), at: new Date(fill.at),
    }))
    if (isNew) added.push(fill)
  }
  return added
}
