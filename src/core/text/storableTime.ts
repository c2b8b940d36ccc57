/**
 * The first instant Postgres cannot read back as JavaScript writes it: `Date.toJSON` writes years
 * past 9999 as `+010000-…`, which Postgres refuses ("time zone displacement out of range"). Times
 * handed to Postgres (an event's time, a good-till time) must come before it.
 */
export const FIRST_UNSTORABLE_TIME_MS = Date.UTC(10000, 0, 1)
