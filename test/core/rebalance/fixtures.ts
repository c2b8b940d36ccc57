import { parseAmount } from '../../../src/core/money/decimal.js'
import type { RebalanceSpec } from '../../../src/core/rebalance/computeRebalance.js'
import type { RebalanceMarket } from '../../../src/core/rebalance/types.js'

export const amt = (s: string): bigint => parseAmount('amount', s)

/** The sandbox's default markets (PROTOCOL.md §9). */
export const markets: RebalanceMarket[] = [
  { market: 'ETH-USD', base: 'ETH', quote: 'USD', tickSize: amt('0.01'), lotSize: amt('0.001') },
  { market: 'BTC-USD', base: 'BTC', quote: 'USD', tickSize: amt('0.1'), lotSize: amt('0.0001') },
]

export const marks = { 'ETH-USD': amt('2000'), 'BTC-USD': amt('60000') }

export function spec(targets: Record<string, string>, overrides: Partial<RebalanceSpec> = {}): RebalanceSpec {
  return {
    targets: Object.fromEntries(Object.entries(targets).map(([asset, weight]) => [asset, amt(weight)])),
    toleranceBand: amt('0.02'),
    minTradeNotional: amt('10'),
    limitOffsetBps: 0,
    ...overrides,
  }
}
