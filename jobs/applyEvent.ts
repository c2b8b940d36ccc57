/**
 * Step: apply one operator event (PROTOCOL.md §7) to Postgres.
 * - Payload: a `VenueEvent` of one wallet, delivered in seq order by `streamEvents`.
 * - Reads: the order with the event's cloid (row-locked), the wallet's sessions.
 * - Writes, in one transaction: `events` (wallet, seq) — on conflict nothing else happens; fills
 *   (fill id unique); the order state machine; a replacement order (intent revision + 1) when a
 *   session's end cancelled an order the user still wants; sessions ended by SessionRevoked/SessionExpired;
 *   `stream_cursors.last_seq`.
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
import { recordFill } from '../src/store/repositories/recordFill.js'
import { replaceSessionOrder } from '../src/runtime/sessions/replaceSessionOrder.js'
import { events, sessions, streamCursors } from '../src/store/schema/index.js'
import type { VenueEvent } from '../src/venue/types.js'

const str = (value: unknown): string => (typeof value === 'string' ? value : String(value ?? ''))

/** Answers false when the event was already stored (a duplicate delivery). */
export async function applyEvent(db: Db, walletId: string, event: VenueEvent): Promise<boolean> {
  const seq = Number(event.seq)
  return db.transaction(async (tx) => {
    const inserted = await tx.insert(events).values({
      walletId, seq, type: event.type, clientOrderId: event.clientOrderId?.toLowerCase() ?? null, payload: event as unknown as Record<string, unknown>,
    }).onConflictDoNothing().returning({ id: events.id })
    await tx.insert(streamCursors).values({ walletId, lastSeq: seq })
      .onConflictDoUpdate({ target: streamCursors.walletId, set: { lastSeq: sql`greatest(${streamCursors.lastSeq}, ${seq})` } })
    if (inserted.length === 0) return false
    const data = event.data ?? {}
    const cloid = event.clientOrderId
    switch (event.type) {
      case 'OrderFilled':
        if (cloid) {
          await recordFill(tx, {
            walletId, fillId: str(data.fillId), clientOrderId: cloid, market: str(data.market),
            side: data.side === 'sell' || data.side === 1 ? 1 : 0,
            price: str(data.price), size: str(data.size), fee: str(data.fee ?? '0'), seq, at: new Date(event.at),
          })
        }
        break
      case 'OrderAccepted':
      case 'OrderModified':
      case 'OrderRejected':
        if (cloid) await mutateOrder(tx, { walletId, clientOrderId: cloid }, [orderUpdate(event)])
        break
      case 'OrderCancelled': {
        if (!cloid) break
        const result = await mutateOrder(tx, { walletId, clientOrderId: cloid }, [orderUpdate(event)])
        // A session ending cancels its orders; what the user still wants is placed again.
        if (result && (data.reason === 'sessionRevoked' || data.reason === 'sessionExpired') && result.before.state !== 'cancelled') {
          await replaceSessionOrder(tx, result.after)
        }
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
    return true
  })
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
