/**
 * Step: apply one operator event (PROTOCOL.md §7) to Postgres.
 * - Payload: a `VenueEvent` of one wallet, normally in seq order (`streamEvents`), but delivery is
 *   at-least-once and may re-order: events are applied strictly in seq order whatever the arrival
 *   order. An event ahead of a missing one is stored and applied when the ones before it arrive.
 * - Reads: the stream cursor (row-locked: the last seq applied), stored events after it, the orders
 *   the events name (row-locked together, in id order, and written back once per run), the wallet's sessions.
 * - Writes, in one transaction: `events` (wallet, seq) — an event at or below the cursor changes nothing; fills
 *   (fill id unique); the order state machine; a replacement order (intent revision + 1) when a
 *   session's end cancelled an order the user still wants; sessions ended by SessionRevoked/SessionExpired;
 *   `stream_cursors.last_seq` (the last seq applied, with every one before it).
 * - Errors and retries: a failure rolls the transaction back and the stream reconnects from the
 *   last stored seq, so the event is delivered again.
 * - Idempotency key: (wallet, seq); fills also by (wallet, fill id).
 */
import { and, eq, inArray, sql } from 'drizzle-orm'
import { parseAmount } from '../src/core/money/decimal.js'
import type { OrderUpdate } from '../src/core/orders/applyOrderUpdate.js'
import type { Db } from '../src/store/Database.js'
import { audit } from '../src/store/repositories/audit.js'
import { mutateOrder } from '../src/store/repositories/mutateOrder.js'
import { type OrderWorkspace, orderWorkspace } from '../src/store/repositories/orderWorkspace.js'
import type { FillInput } from '../src/store/repositories/recordFill.js'
import { replaceSessionOrder } from '../src/runtime/sessions/replaceSessionOrder.js'
import { events, sessions, streamCursors } from '../src/store/schema/index.js'
import type { VenueEvent } from '../src/venue/types.js'

const str = (value: unknown): string => (typeof value === 'string' ? value : String(value ?? ''))

/**
 * Answers true when the event was applied now (with any stored events it unblocked), false when it
 * had been applied before (a duplicate) or waits for the events before it (it arrived early).
 */
export async function applyEvent(db: Db, walletId: string, event: VenueEvent): Promise<boolean> {
  return (await applyEvents(db, walletId, [event])).length > 0
}

/**
 * Applies a run of events that arrived together (consecutive, in seq order, as
 * `streamEvents` hands them over): one transaction, one cursor lock and one multi-row insert for
 * the run, so the per-event overhead is paid once per batch. Same rules: events at or below the
 * cursor change nothing, an event ahead of a missing one is stored and waits. Answers the events
 * applied now, stored ones they unblocked included.
 */
export async function applyEvents(db: Db, walletId: string, batch: readonly VenueEvent[]): Promise<VenueEvent[]> {
  if (batch.length === 0) return []
  return db.transaction(async (tx) => {
    let last = await lockCursor(tx, walletId)
    const bySeq = new Map<number, VenueEvent>()
    for (const event of batch) if (Number(event.seq) > last) bySeq.set(Number(event.seq), event)
    if (bySeq.size === 0) return []
    const fresh = [...bySeq.entries()].sort(([a], [b]) => a - b).map(([, event]) => event)
    await tx.insert(events).values(fresh.map((event) => ({
      walletId, seq: Number(event.seq), type: event.type, clientOrderId: event.clientOrderId?.toLowerCase() ?? null, payload: event as unknown as Record<string, unknown>,
    }))).onConflictDoNothing()
    // Applied out of order, a cancel would make the order terminal before an earlier modify or fill:
    // the run applied now is the events that follow the cursor without a gap.
    const run: VenueEvent[] = []
    for (const event of fresh) {
      if (Number(event.seq) !== last + 1 + run.length) break
      run.push(event)
    }
    if (run.length === 0) return []
    // The run's orders are read and locked together, its fills recorded in one statement.
    const workspace = orderWorkspace(tx, walletId)
    await workspace.load(run.flatMap((event) => (event.clientOrderId ? [event.clientOrderId] : [])))
    await workspace.insertFills(run.flatMap((event) => (event.type === 'OrderFilled' && event.clientOrderId ? [fillInput(walletId, event)] : [])))
    for (const event of run) await applyInOrder(tx, workspace, walletId, event)
    last += run.length
    const applied = [...run]
    for (let next = await storedEvent(tx, walletId, last + 1); next; next = await storedEvent(tx, walletId, last + 1)) {
      await applyInOrder(tx, workspace, walletId, next)
      last = Number(next.seq)
      applied.push(next)
    }
    await workspace.flush()
    await tx.update(streamCursors).set({ lastSeq: last }).where(eq(streamCursors.walletId, walletId))
    return applied
  })
}

/**
 * The last seq applied for the wallet, with the cursor row locked until the transaction ends (the
 * upsert locks it, and creates it on first use): consumers of one wallet apply one at a time.
 */
async function lockCursor(tx: Db, walletId: string): Promise<number> {
  const [cursor] = await tx.insert(streamCursors).values({ walletId })
    .onConflictDoUpdate({ target: streamCursors.walletId, set: { walletId: sql`excluded.wallet_id` } })
    .returning({ lastSeq: streamCursors.lastSeq })
  return cursor!.lastSeq
}

async function storedEvent(tx: Db, walletId: string, seq: number): Promise<VenueEvent | undefined> {
  const [row] = await tx.select({ payload: events.payload }).from(events).where(and(eq(events.walletId, walletId), eq(events.seq, seq)))
  return row?.payload as VenueEvent | undefined
}

/**
 * One event's effect; the caller guarantees every earlier event of the wallet was applied. Order
 * changes go through the workspace (written back by its `flush`), except a cancel by a session's
 * end, which may re-place the order and so is written at once.
 */
async function applyInOrder(tx: Db, workspace: OrderWorkspace, walletId: string, event: VenueEvent): Promise<void> {
  const seq = Number(event.seq)
  const data = event.data ?? {}
  const cloid = event.clientOrderId
  switch (event.type) {
    case 'OrderFilled':
      if (cloid) await workspace.fill(fillInput(walletId, event))
      break
    case 'OrderAccepted':
    case 'OrderModified':
    case 'OrderRejected':
      if (cloid) await workspace.apply(cloid, [orderUpdate(event)])
      break
    case 'OrderCancelled': {
      if (!cloid) break
      if (data.reason !== 'sessionRevoked' && data.reason !== 'sessionExpired') {
        await workspace.apply(cloid, [orderUpdate(event)])
        break
      }
      // A session ending cancels its orders; what the user still wants is placed again.
      await workspace.flush()
      workspace.forget(cloid)
      const result = await mutateOrder(tx, { walletId, clientOrderId: cloid }, [orderUpdate(event)])
      if (result && result.before.state !== 'cancelled') await replaceSessionOrder(tx, result.after)
      break
    }
    case 'SessionRevoked':
    case 'SessionExpired': {
      const status = event.type === 'SessionRevoked' ? 'revoked' : 'expired'
      const ended = await tx.update(sessions).set({ status, statusReason: `operator event ${event.type}`, revokedAt: new Date(event.at) })
        .where(and(eq(sessions.walletId, walletId), eq(sessions.delegationHash, str(data.delegation)), inArray(sessions.status, ['active', 'rotating', 'delegated'])))
        .returning({ id: sessions.id })
      if (ended.length) await audit(tx, { walletId, actor: 'worker', action: `session.${status}`, details: { sessionId: ended[0]!.id, seq } })
      break
    }
  }
}

function fillInput(walletId: string, event: VenueEvent): FillInput {
  const data = event.data ?? {}
  return {
    walletId, fillId: str(data.fillId), clientOrderId: event.clientOrderId!, market: str(data.market),
    side: data.side === 'sell' || data.side === 1 ? 1 : 0,
    price: str(data.price), size: str(data.size), fee: str(data.fee ?? '0'), seq: Number(event.seq), at: new Date(event.at),
  }
}

function orderUpdate(event: VenueEvent): OrderUpdate {
  const data = event.data ?? {}
  switch (event.type) {
    case 'OrderModified':
      return { kind: 'modified', price: parseAmount('price', data.price), size: parseAmount('size', data.size), revision: Number(data.revision) }
    case 'OrderCancelled':
      return { kind: 'cancelled', reason: str(data.reason || 'unknown') }
    case 'OrderRejected':
      return { kind: 'rejected', code: str(data.code || 'OrderRejected') }
    default:
      return { kind: 'accepted', ...(event.orderId ? { venueOrderId: event.orderId } : {}) }
  }
}
