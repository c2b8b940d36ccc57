import { eq } from 'drizzle-orm'
import { outboxDueInMs } from '../../store/repositories/outboxRepo.js'
import { orders, outbox } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import type { SubmitContext } from './types.js'

/**
 * An outbox row and its order, in one round trip (this runs once per request), or undefined when the
 * row is gone; with how long until the row is due (`dueInMs`, 0 when it is), on Postgres's clock, which
 * dates `available_at` (its now(), or a good-till time it is compared with elsewhere too): on this
 * worker's, one running behind would hold every request it runs back by as much.
 */
export async function loadSubmitContext(deps: WorkerDeps, outboxId: string): Promise<(SubmitContext & { dueInMs: number }) | undefined> {
  const [loaded] = await deps.db.select({
    row: outbox,
    order: orders,
    dueInMs: outboxDueInMs,
  }).from(outbox).leftJoin(orders, eq(orders.id, outbox.orderId)).where(eq(outbox.id, outboxId))
  return loaded ? { deps, row: loaded.row, order: loaded.order ?? undefined, dueInMs: loaded.dueInMs } : undefined
}
