import { UNREADABLE_FRAME } from '../core/orders/eventProblem.js'
import { toStorableText } from '../core/text/storableText.js'
import type { VenueEvent } from './types.js'

/** A frame of the stream that could not be read as an event (not JSON, or no seq), with its SSE `id`. */
export type UnreadableFrame = { id: string | undefined; text: string; problem: string }

/** The most of an unreadable frame's text kept in its stand-in (for the audit trail, not parsed). */
const KEPT_CHARS = 2_000

/**
 * The stand-in for an unreadable frame passed over at `seq` (`streamEvents`' skipUnreadableAfter):
 * an event of type UnreadableFrame, which `eventProblem` passes over, stored in the frame's place
 * so the wallet's cursor moves past it. It keeps the frame's text (cut, with text Postgres cannot
 * store replaced) and what can be made out of it by pattern: the client order id, type and fill id,
 * so reconciliation reads back the order of a fill it may have been (`passedOverFills`).
 */
export function unreadableFrameStandIn(seq: bigint, frame: UnreadableFrame): VenueEvent {
  const named = (field: string, pattern: string): string | undefined => new RegExp(`"${field}"\\s*:\\s*"(${pattern})"`).exec(frame.text)?.[1]
  const clientOrderId = named('clientOrderId', '0x[0-9a-fA-F]{32}')
  const typeNamed = named('type', '[A-Za-z]{1,40}')
  const fillId = named('fillId', '[^"\\\\]{1,200}')
  return {
    seq: String(seq), type: UNREADABLE_FRAME as VenueEvent['type'], wallet: undefined as never, at: undefined as never,
    ...(clientOrderId ? { clientOrderId: clientOrderId.toLowerCase() as VenueEvent['clientOrderId'] } : {}),
    data: {
      frame: toStorableText(frame.text.slice(0, KEPT_CHARS)), problem: toStorableText(frame.problem),
      ...(typeNamed ? { typeNamed } : {}), ...(fillId ? { fillId: toStorableText(fillId) } : {}),
    },
  }
}
