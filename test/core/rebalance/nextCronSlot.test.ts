import { CronExpressionParser } from 'cron-parser'
import { describe, expect, it } from 'vitest'
import { FORMATS_KEPT, formatsKept, nextCronSlot } from '../../../src/core/rebalance/nextCronSlot.js'

const at = (iso: string) => Date.parse(iso)
const iso = (ms: number) => new Date(ms).toISOString()

/** The slots from `from` to `to`, each computed afresh from the one before, as BullMQ's scheduler does. */
function walk(cron: string, timeZone: string, from: string, to: string): string[] {
  const slots: string[] = []
  for (let slot = nextCronSlot(cron, timeZone, at(from)); slot <= at(to); slot = nextCronSlot(cron, timeZone, slot)) slots.push(iso(slot))
  return slots
}

const quarterHours = (from: string, count: number) => Array.from({ length: count }, (_, i) => iso(at(from) + i * 15 * 60_000))

describe('nextCronSlot', () => {
  // Australia/Lord_Howe: UTC+11 until 15:00Z on 2026-04-04 (02:00 becomes 01:30), UTC+10:30 until
  // 15:30Z on 2026-10-03 (02:00 becomes 02:30).
  it('fires a */15 cron every quarter hour through Lord Howe\'s half-hour fall-back, the repeated 01:30 and 01:45 included', () => {
    // cron-parser alone goes from 14:45Z (01:45 UTC+11) to 15:30Z (02:00 UTC+10:30): two runs fewer.
    expect(walk('*/15 * * * *', 'Australia/Lord_Howe', '2026-04-04T14:20:00Z', '2026-04-04T15:50:00Z')).toEqual(quarterHours('2026-04-04T14:30:00Z', 6))
  })

  it('fires a */15 cron every quarter hour through Lord Howe\'s half-hour spring-forward, at 02:30 and 02:45 after the jump', () => {
    // cron-parser alone goes from 15:15Z (01:45 UTC+10:30) to 16:00Z (03:00 UTC+11): 02:30 and 02:45 exist, and did not run.
    expect(walk('*/15 * * * *', 'Australia/Lord_Howe', '2026-10-03T15:00:00Z', '2026-10-03T16:20:00Z')).toEqual(quarterHours('2026-10-03T15:15:00Z', 5))
  })

  it('answers from a moment inside the repeated stretch (a scheduler written, a run started late) the next quarter hour', () => {
    expect(iso(nextCronSlot('*/15 * * * *', 'Australia/Lord_Howe', at('2026-04-04T15:05:00Z')))).toBe('2026-04-04T15:15:00.000Z')
    expect(iso(nextCronSlot('*/15 * * * *', 'Australia/Lord_Howe', at('2026-04-04T15:00:00Z')))).toBe('2026-04-04T15:15:00.000Z')
  })

  it('is cron-parser\'s answer for a cron that names its hours, and away from clock changes', () => {
    const cases: [string, string, string][] = [
      ['30 2 * * *', 'Australia/Lord_Howe', '2026-10-03T12:00:00Z'],
      ['30 1 * * *', 'Australia/Lord_Howe', '2026-04-04T14:31:00Z'],
      ['30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z'],
      ['30 1 * * *', 'America/New_York', '2026-11-01T05:31:00Z'],
      ['*/15 * * * *', 'Australia/Lord_Howe', '2026-06-01T10:07:00Z'],
      ['0 9 * * 1', 'Europe/Paris', '2026-06-01T10:07:00Z'],
    ]
    for (const [cron, tz, from] of cases) {
      expect(nextCronSlot(cron, tz, at(from)), `${cron} ${tz} ${from}`).toBe(CronExpressionParser.parse(cron, { currentDate: new Date(at(from)), tz }).next().getTime())
    }
  })

  it('keeps a one-hour zone\'s every-hour cron as it was: both 01:00s in New York', () => {
    expect(walk('0 * * * *', 'America/New_York', '2026-11-01T04:30:00Z', '2026-11-01T07:30:00Z')).toEqual(['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z'])
  })

  it('steps an every-hour cron through every clock change of a year in several zones, one slot per wall-clock match, never backwards', () => {
    for (const tz of ['Australia/Lord_Howe', 'Europe/Berlin', 'America/New_York', 'Antarctica/Troll', 'Pacific/Chatham']) {
      const format = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' })
      const offset = (ms: number) => format.formatToParts(ms).find((part) => part.type === 'timeZoneName')?.value
      const days = Array.from({ length: 366 }, (_, day) => at('2026-01-01T00:00:00Z') + day * 24 * 3600_000)
      const changeDays = days.filter((day) => offset(day) !== offset(day + 24 * 3600_000))
      expect(changeDays, tz).toHaveLength(2)
      for (const day of changeDays) {
        const slots = walk('*/30 * * * *', tz, iso(day - 3600_000), iso(day + 25 * 3600_000))
        expect(slots.length, `${tz} ${iso(day)}`).toBe(52)
        for (let i = 1; i < slots.length; i++) expect(at(slots[i]!) - at(slots[i - 1]!), `${tz} at ${slots[i]}`).toBe(30 * 60_000)
      }
    }
  })
})

describe('nextCronSlot\'s formatters', () => {
  it('are kept for a bounded number of zone spellings: zones match in any letter case, and each new spelling answers the same', () => {
    const zone = 'Australia/Lord_Howe'
    const letters = [...zone].flatMap((c, i) => (c.toLowerCase() !== c.toUpperCase() ? [i] : []))
    // The first FORMATS_KEPT + 100 spellings, each letter's case from one bit of the spelling's number.
    const spellings = Array.from({ length: FORMATS_KEPT + 100 }, (_, n) =>
      [...zone].map((c, i) => (letters.includes(i) && (n >> letters.indexOf(i)) & 1 ? c.toLowerCase() : c.toUpperCase())).join(''))
    expect(new Set(spellings).size).toBe(spellings.length)
    const expected = nextCronSlot('*/15 * * * *', zone, at('2026-04-04T14:50:00Z'))
    for (const spelling of spellings) expect(nextCronSlot('*/15 * * * *', spelling, at('2026-04-04T14:50:00Z'))).toBe(expected)
    expect(formatsKept()).toBe(FORMATS_KEPT)
  })
})
