import type { Logger } from 'pino'
import type { VenueClient } from '../venue/createVenueClient.js'
import { measureOperatorClock } from '../venue/measureOperatorClock.js'

export type OperatorClock = {
  /** The operator's clock: ours plus the last measured offset. */
  now: () => number
  /** Measures the offset again (one measurement at a time; callers meanwhile share it). */
  resync: () => Promise<void>
}

/**
 * The operator's clock as seen from here, from the offset measured at start-up. Either clock may
 * step later (an NTP correction, a VM resumed): then every deadline signed on the old offset is
 * refused (DeadlineExpired), so the submission path measures again when it hears that.
 */
export function createOperatorClock(venue: Pick<VenueClient, 'info'>, now: () => number, offsetMs: number, log: Logger): OperatorClock {
  let offset = offsetMs
  let measuring: Promise<void> | undefined
  return {
    now: () => now() + offset,
    resync() {
      measuring ??= measureOperatorClock(venue, now).then(({ offsetMs: measured }) => {
        if (measured !== offset) log.warn({ fromMs: offset, toMs: measured }, 'the operator\'s clock offset changed; deadlines follow the new one')
        offset = measured
      }).finally(() => { measuring = undefined })
      return measuring
    },
  }
}
