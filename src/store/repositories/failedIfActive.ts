import { type SQL, sql } from 'drizzle-orm'
import { sessions } from '../schema/index.js'

/**
 * The `failed_at` to set on a session a refusal or a revocation ends: `at` when the row is still the
 * wallet's active session (a failure: automatic grants back off on these), else null (a rotated-out
 * session's end is the worker's own doing). Read inside the UPDATE, from the row's old status.
 */
export function failedIfActive(at: Date): SQL<Date | null> {
  return sql<Date | null>`case when ${sessions.status} = 'active' then ${at.toISOString()}::timestamptz end`
}
