import { expect, it } from 'vitest'
import { PRUNE_ABOVE, createSessionRateLimits } from '../../src/runtime/sessionRateLimits.js'

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

it('forgets limits that have passed and were never asked about again (sessions rotated out), keeping the ones still running', () => {
  let now = 1_000_000
  const limits = createSessionRateLimits(() => now)
  for (let i = 0; i < PRUNE_ABOVE; i++) limits.pause(`rotated-out-${i}`, 1_000)
  limits.pause('still-limited', 60_000)
  expect(limits.size()).toBe(PRUNE_ABOVE + 1)
  now += 2_000
  limits.pause('new', 1_000)
  expect(limits.size()).toBe(2)
  expect(limits.waitMs('still-limited')).toBe(58_000)
  expect(limits.waitMs('new')).toBe(1_000)
})
