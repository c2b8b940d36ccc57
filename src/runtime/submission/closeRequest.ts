import { type SQL, and, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../../store/Database.js'
import { requests } from '../../store/schema/index.js'

/** A request not answered yet (signed, or its answer lost): the only one a send's outcome may still be stored on. */
export const openStatus = inArray(requests.status, ['signed', 'unknown'])

/** `sent_at` keeps the first stored send's time: an outcome stored later (a resend's) leaves it. */
export function firstSentAt(sentAt: Date): SQL {
  return sql`coalesce(${requests.sentAt}, ${sentAt})`
}

/**
 * The operator definitively answered (or, without `sentAt`, the request is closed unsent): this request did not and will not take effect.
 * Only while it is open: another run of the same work (the cancel lane beside the job, a stalled job
 * re-run) may have had it accepted since this run read it, and an accepted request stays accepted.
 * Answers whether it closed it. `db` may be a transaction (`settleFailed` closes it with the work's end).
 */
export async function closeRequest(db: Db, now: number, id: string, code: string, message: string, sentAt?: Date): Promise<boolean> {
  const closed = await db.update(requests).set({ status: 'rejected', errorCode: code, errorMessage: message, completedAt: new Date(now), ...(sentAt ? { sentAt: firstSentAt(sentAt) } : {}) })
    .where(and(eq(requests.id, id), openStatus)).returning({ id: requests.id })
  return closed.length > 0
}
