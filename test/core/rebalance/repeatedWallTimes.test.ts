import { describe, expect, it } from 'vitest'
import { firesEveryHour } from '../../../src/core/rebalance/firesEveryHour.js'
import { repeatedWallTimes } from '../../../src/core/rebalance/repeatedWallTimes.js'

const at = (iso: string) => Date.parse(iso)

describe('firesEveryHour', () => {
  it('is true for a cron whose hour field covers the day, however written', () => {
    for (const cron of ['0 * * * *', '*/15 * * * *', '0 0-23 * * *', '0 */1 * * *', '*/2 * * * * *']) expect(firesEveryHour(cron), cron).toBe(true)
  })
  it('is false for a cron that names its hours', () => {
    for (const cron of ['30 2 * * *', '0 1,2 * * *', '0 */2 * * *', '*/15 1 * * *', '0 9 * * 1']) expect(firesEveryHour(cron), cron).toBe(false)
  })
})

describe('repeatedWallTimes', () => {
  // Antarctica/Troll: UTC+2 until 01:00Z on 2026-10-25, then UTC+0: 01:00–03:00 comes twice.
  const timeZone = 'Antarctica/Troll'
  it('lists each slot whose wall time the clock going back brought again, the second repeated hour too', () => {
    const slots = ['2026-10-25T01:00:00Z', '2026-10-25T02:00:00Z', '2026-10-25T03:00:00Z'].map(at)
    expect(repeatedWallTimes({ slots, reference: at('2026-10-25T00:00:00Z'), timeZone })).toEqual(slots.slice(0, 2))
  })
  it('compares slots with each other, not only with the reference', () => {
    // 02:30 UTC+2 (00:30Z) is not a repeat of yesterday; 02:30 UTC+0 (02:30Z) repeats it.
    expect(repeatedWallTimes({ slots: [at('2026-10-25T02:30:00Z'), at('2026-10-25T00:30:00Z')], reference: at('2026-10-24T00:30:00Z'), timeZone }))
      .toEqual([at('2026-10-25T02:30:00Z')])
  })
  it('lists nothing without a clock change, nor slots at or before the reference', () => {
    expect(repeatedWallTimes({ slots: [at('2026-10-24T00:30:00Z'), at('2026-10-26T02:30:00Z')], reference: at('2026-10-25T00:30:00Z'), timeZone })).toEqual([])
    expect(repeatedWallTimes({ slots: [at('2026-10-25T02:30:00Z')], reference: null, timeZone })).toEqual([])
  })
})
