import type { TimingChecker } from '../runtime/schedules/startTimingChecker.js'
import { ApiError } from './errors.js'

/** Schedule timing checks one tenant may have waiting or under way at once (the API's one timing thread is shared). */
export const TIMING_CHECKS_PER_TENANT = 2

/**
 * The API's timing checker as one tenant's requests use it: at most `max` of its checks waiting or
 * under way at once; one more is refused 429 (`SCHEDULE.CHECKS_BUSY`, Retry-After 1) without
 * waiting. The thread takes checks one at a time, first come first served: without this, one
 * tenant sending new crons as fast as it could would queue every other tenant's schedule behind
 * its own, for as long as it kept on.
 */
export function tenantTimingChecks(checker: Pick<TimingChecker, 'problem'>, max = TIMING_CHECKS_PER_TENANT) {
  const inFlight = new Map<string, number>()
  return (tenantId: string): Pick<TimingChecker, 'problem'> => ({
    async problem(timing, limitMs) {
      const held = inFlight.get(tenantId) ?? 0
      if (held >= max) {
        throw new ApiError(429, 'SCHEDULE.CHECKS_BUSY', `${held} schedule timing checks of this tenant are under way; retry once they are answered`, {
          field: 'cron', rule: `at most ${max} schedule timing checks of a tenant at once`, headers: { 'retry-after': '1' }, retryable: true,
        })
      }
      inFlight.set(tenantId, held + 1)
      try {
        return await checker.problem(timing, limitMs)
      } finally {
        const left = (inFlight.get(tenantId) ?? 1) - 1
        if (left > 0) inFlight.set(tenantId, left)
        else inFlight.delete(tenantId)
      }
    },
  })
}
