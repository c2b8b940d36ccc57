import type { Logger } from 'pino'
import type { OperatorDomain } from '../core/eip712/types.js'
import { classifyVenueError } from '../core/errors/classifyVenueError.js'
import { VenueError, VenueTransportError } from '../core/errors/venue.js'
import type { VenueClient } from '../venue/createVenueClient.js'
import { measureOperatorClock } from '../venue/measureOperatorClock.js'
import type { VenueInfo } from '../venue/types.js'
import { type MarketRules, toMarketRules } from './intake/marketRules.js'
import { retryUntilDone } from './retryUntilDone.js'

export type OperatorAtStart = { info: VenueInfo; domain: OperatorDomain; offsetMs: number; markets: MarketRules }

/**
 * What a process reads from the operator before it takes work: its EIP-712
 * domain, how far its clock is from ours, and its markets. An operator that
 * does not answer yet (restarting, unreachable, or answering Unavailable or
 * RateLimited) is waited for, with the doubling delay of `retryUntilDone` and
 * each failure logged; one that answers with another error (a wrong
 * OPERATOR_URL's 404) fails the start at once.
 */
export async function waitForOperator(venue: Pick<VenueClient, 'info' | 'markets'>, log: Logger, now: () => number = Date.now, signal?: AbortSignal): Promise<OperatorAtStart> {
  const { info, offsetMs, venueMarkets } = await retryUntilDone(async () => ({ ...(await measureOperatorClock(venue, now)), venueMarkets: await venue.markets() }), {
    signal,
    retryable: operatorNotAnswering,
    onFailure: (error, retryInMs) => log.warn({ err: error, retryInMs }, 'the operator did not answer at start-up; retrying before taking work'),
  })
  if (offsetMs !== 0) log.warn({ offsetMs }, 'the operator\'s clock differs from ours; deadlines and expiry follow the operator\'s')
  const domain = { name: info.name, version: info.version, chainId: info.chainId, verifyingContract: info.verifyingContract }
  return { info, domain, offsetMs, markets: toMarketRules(venueMarkets) }
}

/** An operator error that means "not answering yet" (no answer, Unavailable, RateLimited), as jobs classify it; any other error is not. */
function operatorNotAnswering(error: unknown): boolean {
  if (!(error instanceof VenueError || error instanceof VenueTransportError)) return false
  const outcome = classifyVenueError(error)
  return outcome === 'unknownOutcome' || outcome === 'transient' || outcome === 'rateLimited'
}
