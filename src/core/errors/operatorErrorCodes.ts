import { venueErrorCodes } from './venue.js'

/** A signed request's error code when the operator's answer never came (a timeout, a dropped connection). */
export const NO_ANSWER_CODE = 'Transport'

/**
 * Every code a signed request's latest operator answer is stored with when it was an error: the
 * protocol's (PROTOCOL.md §5) and `Transport` for no answer. `/metrics` reports each in
 * `deputy_operator_errors{code}` from the start, at 0 until one is seen: a series that first
 * appears at 1 is no increase to Prometheus (`increase`, `changes`), so a rule would miss the first.
 */
export const operatorErrorCodes = [...venueErrorCodes, NO_ANSWER_CODE] as const
