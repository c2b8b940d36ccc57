/** Requests a tenant may make a minute, by default (`API_RATE_LIMIT_PER_MINUTE`): 100 a second on average. */
export const DEFAULT_API_RATE_LIMIT_PER_MINUTE = 6_000

/**
 * Failed authentications one client address may make a minute, by default (`AUTH_FAILURES_PER_MINUTE`):
 * a client with a wrong key is told so that many times before it is refused for the rest of the minute.
 */
export const DEFAULT_AUTH_FAILURES_PER_MINUTE = 60
