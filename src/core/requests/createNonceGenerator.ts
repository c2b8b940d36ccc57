export type NonceGenerator = { next(): bigint }

/**
 * Nonces of the form `unix_ms * 1000 + counter` (PROTOCOL.md §4), strictly
 * increasing even when the clock stalls or steps back. `next()` is synchronous,
 * so concurrent callers in one process can never draw the same value.
 */
export function createNonceGenerator(now: () => number, start = 0n): NonceGenerator {
  let last = start
  return {
    next() {
      const candidate = BigInt(Math.floor(now())) * 1000n
      last = candidate > last ? candidate : last + 1n
      return last
    },
  }
}
