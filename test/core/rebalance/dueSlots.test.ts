import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../src/core/errors/ValidationError.js'
import { dueSlots } from '../../../src/core/rebalance/dueSlots.js'
import { slotToRun } from '../../../src/core/rebalance/slotToRun.js'

const minute = 60_000

describe('dueSlots', () => {
  it('lists the slots in (after, now] in the schedule time zone', () => {
    // 09:00 in Paris is 08:00Z in winter
    const after = Date.UTC(2024, 0, 1, 8, 0)
    const now = Date.UTC(2024, 0, 4, 10, 0)
    expect(dueSlots({ cron: '0 9 * * *', timeZone: 'Europe/Paris', after, now })).toEqual({
      slots: [Date.UTC(2024, 0, 2, 8), Date.UTC(2024, 0, 3, 8), Date.UTC(2024, 0, 4, 8)],
      truncated: false,
    })
  })

  it('lists the quarter hours of Lord Howe\'s repeated half hour, as the scheduler fires them (nextCronSlot)', () => {
    // UTC+11 until 15:00Z on 2026-04-04, then UTC+10:30: 01:30 and 01:45 come again at 15:00Z and 15:15Z.
    expect(dueSlots({ cron: '*/15 * * * *', timeZone: 'Australia/Lord_Howe', after: Date.parse('2026-04-04T14:45:00Z'), now: Date.parse('2026-04-04T15:20:00Z') }))
      .toEqual({ slots: [Date.parse('2026-04-04T15:00:00Z'), Date.parse('2026-04-04T15:15:00Z')], truncated: false })
  })

  it('follows daylight saving time', () => {
    // Paris moved to UTC+2 on 2024-03-31: 09:00 local becomes 07:00Z
    const { slots } = dueSlots({ cron: '0 9 * * *', timeZone: 'Europe/Paris', after: Date.UTC(2024, 2, 29, 12), now: Date.UTC(2024, 3, 1, 12) })
    expect(slots).toEqual([Date.UTC(2024, 2, 30, 8), Date.UTC(2024, 2, 31, 7), Date.UTC(2024, 3, 1, 7)])
  })

  it('lists a wall-clock time of the hour a fall-back transition repeats once, as BullMQ fires it', () => {
    // Paris went back from UTC+2 to UTC+1 at 01:00Z on 2026-10-25: 02:30 local came at 00:30Z and again at 01:30Z.
    expect(dueSlots({ cron: '30 2 * * *', timeZone: 'Europe/Paris', after: Date.UTC(2026, 9, 24, 12), now: Date.UTC(2026, 9, 26, 12) }).slots)
      .toEqual([Date.UTC(2026, 9, 25, 0, 30), Date.UTC(2026, 9, 26, 1, 30)])
    // After the run at 00:30Z, the repeat at 01:30Z is not a slot that fell due.
    expect(dueSlots({ cron: '30 2 * * *', timeZone: 'Europe/Paris', after: Date.UTC(2026, 9, 25, 0, 30), now: Date.UTC(2026, 9, 25, 1, 45) }).slots).toEqual([])
    // New York, 2026-11-01: 01:00 and 01:30 local came at 05:00Z/05:30Z (EDT) and again at 06:00Z/06:30Z (EST).
    expect(dueSlots({ cron: '0,30 1 * * *', timeZone: 'America/New_York', after: Date.UTC(2026, 9, 31, 12), now: Date.UTC(2026, 10, 2, 0) }).slots)
      .toEqual([Date.UTC(2026, 10, 1, 5), Date.UTC(2026, 10, 1, 5, 30)])
  })

  it('lists the slot BullMQ fires on a spring-forward day for a time that does not exist, when it is the only one due', () => {
    // Berlin and New York skip 02:00–03:00 on 2027-03-28 and 2027-03-14: BullMQ fires 02:30 at 03:30 local,
    // which cron-parser's backward walk passes over.
    expect(dueSlots({ cron: '30 2 * * *', timeZone: 'Europe/Berlin', after: Date.UTC(2027, 2, 27, 1, 30), now: Date.UTC(2027, 2, 28, 2) }).slots)
      .toEqual([Date.UTC(2027, 2, 28, 1, 30)])
    expect(dueSlots({ cron: '30 2 * * *', timeZone: 'America/New_York', after: Date.UTC(2027, 2, 13, 7, 30), now: Date.UTC(2027, 2, 14, 12) }).slots)
      .toEqual([Date.UTC(2027, 2, 14, 7, 30)])
    // Santiago skips midnight on 2027-09-05 (BullMQ fires nothing that day), and walking back from that day
    // throws in cron-parser: the 4th's slot, missed while the worker was down, is still due.
    expect(dueSlots({ cron: '0 0 * * *', timeZone: 'America/Santiago', after: Date.UTC(2027, 8, 3, 4), now: Date.UTC(2027, 8, 5, 12) }).slots)
      .toEqual([Date.UTC(2027, 8, 4, 4)])
  })

  it('counts a slot at exactly now as due and one at exactly after as already run', () => {
    const slot = Date.UTC(2024, 0, 1, 9)
    expect(dueSlots({ cron: '0 * * * *', timeZone: 'UTC', after: slot - 3_600_000, now: slot }).slots).toEqual([slot])
    expect(dueSlots({ cron: '0 * * * *', timeZone: 'UTC', after: slot, now: slot + 1000 }).slots).toEqual([])
  })

  it('keeps only the latest slots after a long outage of a fast cron', () => {
    const now = Date.UTC(2024, 0, 2, 0, 0, 30)
    const result = dueSlots({ cron: '* * * * *', timeZone: 'UTC', after: Date.UTC(2024, 0, 1), now, limit: 10 })
    expect(result.truncated).toBe(true)
    expect(result.slots).toHaveLength(10)
    expect(result.slots.at(-1)).toBe(Date.UTC(2024, 0, 2))
    expect(result.slots[0]).toBe(Date.UTC(2024, 0, 2) - 9 * minute)
  })

  it('feeds slotToRun: three missed daily slots run once, for the latest', () => {
    const after = Date.UTC(2024, 0, 1, 9)
    const { slots } = dueSlots({ cron: '0 9 * * *', timeZone: 'UTC', after, now: Date.UTC(2024, 0, 4, 9, 30) })
    expect(slotToRun({ lastRunSlot: after, dueSlots: slots })).toMatchObject({ run: true, slot: Date.UTC(2024, 0, 4, 9), coalesced: 2 })
  })

  it('returns nothing when now is not after the last slot', () => {
    expect(dueSlots({ cron: '0 9 * * *', timeZone: 'UTC', after: 10, now: 10 })).toEqual({ slots: [], truncated: false })
  })

  it('rejects a bad cron or bounds with a ValidationError', () => {
    expect(() => dueSlots({ cron: '0 25 * * *', timeZone: 'UTC', after: 0, now: 1000 })).toThrow(ValidationError)
    expect(() => dueSlots({ cron: '0 9 * * *', timeZone: 'Mars/Olympus', after: 0, now: Date.UTC(2024, 0, 9) })).toThrow(ValidationError)
    expect(() => dueSlots({ cron: '0 9 * * *', timeZone: 'UTC', after: 0.5, now: 1000 })).toThrow('after')
    expect(() => dueSlots({ cron: '0 9 * * *', timeZone: 'UTC', after: 0, now: 1000, limit: 0 })).toThrow('limit')
  })
})
