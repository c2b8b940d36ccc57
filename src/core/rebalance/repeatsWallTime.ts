export type RepeatsWallTimeParameters = {
  /** A slot (unix ms) a job stands for. */
  slot: number
  /** The slot (unix ms) the schedule last ran for. */
  lastRunSlot: number
  /** The schedule's IANA zone. */
  timeZone: string
}

/** The wall time at `ms` in `format`'s zone, as `YYYY-MM-DD HH:mm:ss.SSS` (so strings compare as times). */
function wallTime(format: Intl.DateTimeFormat, ms: number): string {
  const part = Object.fromEntries(format.formatToParts(ms).map((p) => [p.type, p.value]))
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}.${String(ms % 1000).padStart(3, '0')}`
}

/**
 * Whether `slot`, later than the last run, shows a wall time at or before the last run's in the
 * schedule's zone: the clock went back between them (a fall-back day's repeated hour), so the slot's
 * wall time was already run. Pure.
 */
export function repeatsWallTime({ slot, lastRunSlot, timeZone }: RepeatsWallTimeParameters): boolean {
  if (slot <= lastRunSlot) return false
  const format = new Intl.DateTimeFormat('en-CA', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  })
  return wallTime(format, slot) <= wallTime(format, lastRunSlot)
}
