import { ValidationError } from '../errors/ValidationError.js'

export type NonceGenerator = { next(): bigint }

/**
 * Nonces of the form `unix_ms * 1000 + counter` (PROTOCOL.md §4), strictly
 * increasing even when the clock stalls or steps back. `next()` is synchronous,
 * so concurrent callers in one process can never draw the same value.
 * `start` is the last nonce already used: every nonce drawn is above it.
 * Processes signing for one session key share no counter, so give them a
 * shared clock (the operator's): the operator refuses a nonce below the 100
 * highest it has seen for the key.
 */
export function createNonceGenerator(now: () => number, start = 0n): NonceGenerator {
  let last = start
  return {
    next() {
      const ms = now()
      if (!Number.isFinite(ms) || ms < 0) throw new ValidationError('now', 'must return unix milliseconds', `got ${ms}`)
      const candidate = BigInt(Math.floor(ms)) * 1000n
      last = candidate > last ? candidate : last + 1n
      return last
    },
  }
}
