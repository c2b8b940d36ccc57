import type { VenueClient } from './createVenueClient.js'
import type { VenueInfo } from './types.js'

/**
 * Reads `/v1/info` and estimates how far the operator's clock is ahead of ours
 * (its `serverTime` against the midpoint of the round trip). Deadlines and
 * delegation expiry are judged by the operator's clock, so a worker whose
 * clock drifts signs requests the operator would refuse as expired or too far
 * ahead; offsets below `noiseMs` are treated as none.
 */
export async function measureOperatorClock(venue: Pick<VenueClient, 'info'>, now: () => number = Date.now, noiseMs = 250): Promise<{ info: VenueInfo; offsetMs: number }> {
  const before = now()
  const info = await venue.info()
  const after = now()
  const offset = Math.round(info.serverTime - (before + after) / 2)
  return { info, offsetMs: Math.abs(offset) < noiseMs ? 0 : offset }
}
