/** Requests a tenant may make a minute, by default (`API_RATE_LIMIT_PER_MINUTE`): 100 a second on average. */
export const DEFAULT_API_RATE_LIMIT_PER_MINUTE = 6_000

/**
 * Failed checks of the admin or metrics token one client may make a minute, by default
 * (`TOKEN_FAILURES_PER_MINUTE`): a person who mistyped it is told so that many times.
 */
export const DEFAULT_TOKEN_FAILURES_PER_MINUTE = 20
