import { ValidationError } from '../../core/errors/ValidationError.js'
import { parseAmount } from '../../core/money/decimal.js'
import type { VenueMarket } from '../../venue/types.js'

export type MarketRule = { market: string; base: string; quote: string; tickSize: bigint; lotSize: bigint }
export type MarketRules = Map<string, MarketRule>

/** The operator's markets as validation rules (tick and lot sizes as 18-decimal bigints). */
export function toMarketRules(markets: readonly VenueMarket[]): MarketRules {
  return new Map(markets.map((m) => [m.market, { market: m.market, base: m.base, quote: m.quote, tickSize: parseAmount('tickSize', m.tickSize), lotSize: parseAmount('lotSize', m.lotSize) }]))
}

export function marketRule(rules: MarketRules, market: unknown): MarketRule {
  const rule = typeof market === 'string' ? rules.get(market) : undefined
  if (!rule) throw new ValidationError('market', `must be one of the operator's markets (${[...rules.keys()].join(', ')})`)
  return rule
}
