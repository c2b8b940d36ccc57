import { repeatsWallTime } from './repeatsWallTime.js'

export type RepeatedWallTimesParameters = {
  /** Slots (unix ms), any order. */
  slots: readonly number[]
  /** The last slot the schedule ran at a wall time of its own (not a skipped repeat), or null. */
  reference: number | null
  timeZone: string
}

/**
 * The slots after `reference` whose wall time in `timeZone` does not move past that of the reference
 * or of an earlier slot kept: the clock went back between them, and that wall time already came (a
 * fall-back day's repeated hours). Each is compared with the latest wall time kept so far, so the
 * second of two repeated hours is caught too. For a cron that names its hours (`firesEveryHour`
 * false). Pure.
 */
export function repeatedWallTimes({ slots, reference, timeZone }: RepeatedWallTimesParameters): number[] {
  const repeated: number[] = []
  let latest = reference
  for (const slot of [...new Set(slots)].sort((a, b) => a - b)) {
    if (latest !== null && slot <= latest) continue
    if (latest !== null && repeatsWallTime({ slot, lastRunSlot: latest, timeZone })) repeated.push(slot)
    else latest = slot
  }
  return repeated
}
