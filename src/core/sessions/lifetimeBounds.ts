/**
 * The bounds on a session's lifetime, in one place: the API's `lifetimeSeconds`, the
 * SESSION_LIFETIME_SECONDS setting, rotations and the pre-live checks all hold to them.
 */

/** The pre-live checks refuse a delegation with less than this left (an hour). */
export const MIN_SESSION_LIFETIME_SECONDS = 3600
export const MIN_SESSION_LIFETIME_RULE = `must be at least ${MIN_SESSION_LIFETIME_SECONDS}: the pre-live checks refuse a delegation with less than an hour left`

/** The longest automation window a grant accepts (30 days). */
export const MAX_SESSION_LIFETIME_SECONDS = 30 * 24 * 3600
export const MAX_SESSION_LIFETIME_RULE = `must be at most ${MAX_SESSION_LIFETIME_SECONDS} (30 days), the longest automation window a grant accepts`

/**
 * The shortest lifetime a session may be granted for when sessions are rotated `rotateLeadSeconds`
 * before they expire: twice the lead, else a new session would be due for rotation as soon as it
 * went live (and its replacement as short).
 */
export function shortestLifetimeSeconds(rotateLeadSeconds: number): number {
  return 2 * rotateLeadSeconds
}
