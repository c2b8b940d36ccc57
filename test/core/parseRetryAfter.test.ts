import { describe, expect, it } from 'vitest'
import { parseRetryAfterMs } from '../../src/core/parseRetryAfter.js'

describe('parseRetryAfterMs (RFC 9110 §10.2.3)', () => {
  const now = Date.parse('2026-12-05T10:00:00Z')
  it('reads delay-seconds and an HTTP-date, the RFC\'s own example format', () => {
    expect(parseRetryAfterMs('120', now)).toBe(120_000)
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0)
    expect(parseRetryAfterMs('Sat, 05 Dec 2026 10:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfterMs(['5', '7'], now)).toBe(5_000)
    // The obsolete forms a recipient must still accept.
    expect(parseRetryAfterMs('Saturday, 05-Dec-26 10:01:00 GMT', now)).toBe(60_000)
    expect(parseRetryAfterMs('Sat Dec  5 10:00:10 2026', now)).toBe(10_000)
  })
  it('answers 0 for a date already past, and nothing for what it cannot read', () => {
    expect(parseRetryAfterMs('Fri, 04 Dec 2026 10:00:00 GMT', now)).toBe(0)
    for (const value of [undefined, null, '', '-5', '1.5', 'soon', '1e3', 'Dec 2026']) expect(parseRetryAfterMs(value, now)).toBeUndefined()
  })
})
