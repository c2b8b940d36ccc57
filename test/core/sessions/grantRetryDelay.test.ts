import { expect, it } from 'vitest'
import { GRANT_RETRY_BASE_MS, GRANT_RETRY_MAX_MS, grantRetryAt, grantRetryDelayMs } from '../../../src/core/sessions/grantRetryDelay.js'

it('replaces a first failure at once, then waits the base, doubling up to the cap', () => {
  expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => grantRetryDelayMs(n, 1_000, 20_000))).toEqual([0, 0, 1_000, 2_000, 4_000, 8_000, 16_000, 20_000, 20_000])
  expect(grantRetryDelayMs(2)).toBe(GRANT_RETRY_BASE_MS)
  expect(grantRetryDelayMs(1_000_000)).toBe(GRANT_RETRY_MAX_MS)
})

it('refuses a count that is not a non-negative integer, naming it', () => {
  for (const bad of [-1, 1.5, Number.NaN]) expect(() => grantRetryDelayMs(bad)).toThrow(/failures must be a non-negative integer/)
})

it('dates the next automatic grant from the latest failure: at once before the second', () => {
  expect(grantRetryAt(0, undefined)).toBe(0)
  expect(grantRetryAt(1, 5_000_000)).toBe(5_000_000)
  expect(grantRetryAt(3, 5_000_000)).toBe(5_000_000 + 2 * GRANT_RETRY_BASE_MS)
  expect(grantRetryAt(3, 5_000_000, 1_000)).toBe(5_002_000)
})
