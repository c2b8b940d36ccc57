import { eq } from 'drizzle-orm'
import { orders, outbox } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import type { SubmitContext } from './types.js'

/** An outbox row and its order, in one round trip (this runs once per request), or undefined when the row is gone. */
export async function loadSubmitContext(deps: WorkerDeps, outboxId: string): Promise<SubmitContext | undefined> {
  const [loaded] = await deps.db.select({ row: outbox, order: orders }).from(outbox).leftJoin(orders, eq(orders.id, outbox.orderId)).where(eq(outbox.id, outboxId))
  return loaded ? { deps, row: loaded.row, order: loaded.order ?? undefined } : undefined
}
