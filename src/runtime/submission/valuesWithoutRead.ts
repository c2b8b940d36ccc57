import { and, asc, eq, exists, inArray, or, sql } from 'drizzle-orm'
import { parseAmount, parsePositiveAmount } from '../../core/money/decimal.js'
import type { Db } from '../../store/Database.js'
import { type OrderRow, orders, outbox, requests, unfinishedOutboxStatuses } from '../../store/schema/index.js'

/**
 * The price and size a session-end replacement is placed at when the order it replaces cannot be
 * read back (its read malformed, or the cloid unknown to the operator), standing in for that read.
 * A ModifyOrder of the cancelled order signed and not finished (its answer lost, or its receipt not
 * stored yet) may have been taken there: its price and size, less what the cancelled order filled
 * (not once it has moved to the replacement, which took that off). It follows the replacement and
 * confirms those values. Else the cancelled order's values as stored now (a modify's receipt stored
 * after the cancel has updated them), its size less what it filled. Never the values copied when
 * the replacement was made: they predate the modify the read was to tell of, and the user moved away
 * from them. Modifies of one order are sent one at a time, so only the first unfinished can have
 * reached the operator. Answers undefined when nothing here says more than the replacement holds.
 */
export async function valuesWithoutRead(tx: Db, cancelledId: string, replacement: OrderRow): Promise<{ price: bigint; size: bigint } | undefined> {
  const [modify] = await tx.select({ orderId: outbox.orderId, payload: outbox.payload }).from(outbox)
    .where(and(
      eq(outbox.kind, 'ModifyOrder'), inArray(outbox.status, [...unfinishedOutboxStatuses]),
      or(eq(outbox.orderId, cancelledId), and(eq(outbox.orderId, replacement.id), sql`${outbox.payload}->>'follows' = ${cancelledId}`)),
      exists(tx.select({ id: requests.id }).from(requests).where(eq(requests.outboxId, outbox.id))),
    ))
    .orderBy(asc(outbox.seq)).limit(1)
  const [cancelled] = await tx.select().from(orders).where(eq(orders.id, cancelledId))
  if (!cancelled) return undefined
  const filled = parseAmount('filled', cancelled.filled)
  if (modify) {
    const size = parsePositiveAmount('size', modify.payload.size)
    const left = modify.orderId === cancelledId ? size - filled : size
    if (left > 0n) return { price: parsePositiveAmount('price', modify.payload.price), size: left }
  }
  const left = parseAmount('size', cancelled.size) - filled
  return { price: parseAmount('price', cancelled.price), size: left > 0n ? left : parseAmount('size', replacement.size) }
}
