import { expect, it } from 'vitest'
import { createSessionRateLimits } from '../../src/runtime/sessionRateLimits.js'

it('holds a rate-limited session until its Retry-After has passed, and no other session', () => {
  let now = 1_000_000
  const limits = createSessionRateLimits(() => now)
  expect(limits.waitMs('a')).toBe(0)
  limits.pause('a', 2_000)
  expect(limits.waitMs('a')).toBe(2_000)
  expect(limits.waitMs('b')).toBe(0)
  now += 500
  expect(limits.waitMs('a')).toBe(1_500)
  // A shorter Retry-After meanwhile does not cut the longer wait short; a longer one extends it.
  limits.pause('a', 100)
  expect(limits.waitMs('a')).toBe(1_500)
  limits.pause('a', 3_000)
  expect(limits.waitMs('a')).toBe(3_000)
  now += 3_000
  expect(limits.waitMs('a')).toBe(0)
})
