import { expect, it } from 'vitest'
import { CANCEL_RETRY_MAX_MS, cancelRetryDelayMs } from '../../../src/core/orders/cancelRetryDelay.js'

it('waits the sweep interval after a first failure, doubling with each further one up to an hour', () => {
  expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => cancelRetryDelayMs(n, 30_000)))
    .toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000])
  expect(cancelRetryDelayMs(1_000_000, 30_000)).toBe(CANCEL_RETRY_MAX_MS)
  // An interval longer than the cap: every sweep.
  expect(cancelRetryDelayMs(1, 2 * CANCEL_RETRY_MAX_MS)).toBe(CANCEL_RETRY_MAX_MS)
})

it('refuses a count that is not a positive integer, or a negative interval, naming it', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => cancelRetryDelayMs(bad, 30_000)).toThrow(/failures must be a positive integer/)
  expect(() => cancelRetryDelayMs(1, -1)).toThrow(/intervalMs must be a non-negative number/)
})
