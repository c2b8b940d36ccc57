import { and, desc, eq, inArray } from 'drizzle-orm'
import type { Db } from '../Database.js'
import { type RequestRow, requests } from '../schema/index.js'

/**
 * The latest request an outbox row has signed and not yet seen answered (signed or unknown),
 * if any: the bytes a retry must send again instead of signing anew. `signAndPersist` signs a new
 * one only when none is open.
 */
export async function openRequestOf(db: Db, outboxId: string): Promise<RequestRow | undefined> {
  const [open] = await db.select().from(requests)
    .where(and(eq(requests.outboxId, outboxId), inArray(requests.status, ['signed', 'unknown'])))
    .orderBy(desc(requests.createdAt)).limit(1)
  return open
}
