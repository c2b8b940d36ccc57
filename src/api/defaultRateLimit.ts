/** Requests a tenant may make a minute, by default (`API_RATE_LIMIT_PER_MINUTE`): 100 a second on average. */
export const DEFAULT_API_RATE_LIMIT_PER_MINUTE = 6_000
