import { type SQL, and, eq, inArray } from 'drizzle-orm'
import { outbox, unfinishedOutboxStatuses } from '../schema/index.js'

/**
 * The order's CancelOrder outbox rows still to finish: queued, enqueued (perhaps on the wire), or
 * held. A settled one (done, or failed for good) no longer counts.
 */
export function unfinishedCancelsOf(orderId: string): SQL {
  return and(eq(outbox.orderId, orderId), eq(outbox.kind, 'CancelOrder'), inArray(outbox.status, [...unfinishedOutboxStatuses]))!
}
