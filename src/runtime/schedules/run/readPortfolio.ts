import { parseAmount } from '../../../core/money/decimal.js'
import type { ScheduleSpec } from '../../../core/rebalance/parseScheduleSpec.js'
import { QUOTE_ASSET, type RebalanceMarket } from '../../../core/rebalance/types.js'
import type { WorkerDeps } from '../../deps.js'
import type { ActiveSession } from '../../sessionSigners.js'

export type Portfolio = {
  /** asset → total (18 decimals), reserved amounts included: what the portfolio is worth. */
  balances: Record<string, bigint>
  /** asset → available: what the run may sell or spend. */
  available: Record<string, bigint>
  /** market → mark, for the targets' `<ASSET>-USD` markets that exist. */
  marks: Record<string, bigint>
  markets: RebalanceMarket[]
}

/**
 * Reads what a run decides from: balances by an authenticated read signed with
 * the wallet's session key, the operator's markets, and a ticker per targeted
 * market (public). Every read happens now, at run time, never from a cache.
 */
export async function readPortfolio(deps: Pick<WorkerDeps, 'venue' | 'sessions'>, session: ActiveSession, spec: Pick<ScheduleSpec, 'targets'>): Promise<Portfolio> {
  const auth = deps.sessions.readAuth(session)
  const [venueBalances, venueMarkets] = await Promise.all([deps.venue.balances(auth), deps.venue.markets()])
  const markets: RebalanceMarket[] = venueMarkets.map((m) => ({
    market: m.market, base: m.base, quote: m.quote, tickSize: parseAmount(`${m.market}.tickSize`, m.tickSize), lotSize: parseAmount(`${m.market}.lotSize`, m.lotSize),
  }))
  const listed = new Set(markets.map((m) => m.market))
  const wanted = Object.keys(spec.targets).filter((asset) => asset !== QUOTE_ASSET).map((asset) => `${asset}-${QUOTE_ASSET}`).filter((market) => listed.has(market))
  const tickers = await Promise.all(wanted.map(async (market) => [market, parseAmount(`${market}.mark`, (await deps.venue.ticker(market)).mark)] as const))
  const balances: Record<string, bigint> = {}
  const available: Record<string, bigint> = {}
  for (const b of venueBalances) {
    // Asset codes become object keys: anything but a plain code (a "__proto__") is not an asset a spec can target.
    if (!/^[A-Za-z0-9]{1,32}$/.test(b.asset)) continue
    balances[b.asset] = parseAmount(`balances.${b.asset}.total`, b.total)
    available[b.asset] = parseAmount(`balances.${b.asset}.available`, b.available)
  }
  return { balances, available, marks: Object.fromEntries(tickers), markets }
}
