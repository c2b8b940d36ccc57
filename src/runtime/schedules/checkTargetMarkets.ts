import type { ScheduleSpec } from '../../core/rebalance/parseScheduleSpec.js'
import { ScheduleValidationError, type ValidationProblem } from '../../core/rebalance/ScheduleValidationError.js'
import { QUOTE_ASSET } from '../../core/rebalance/types.js'
import type { MarketRules } from '../intake/marketRules.js'

/**
 * Refuses targets the operator cannot trade. The math would only skip them at
 * every run (their weight staying in USD); saying so at intake is kinder.
 */
export function checkTargetMarkets(spec: ScheduleSpec, markets: MarketRules | undefined): void {
  if (!markets) return
  const problems: ValidationProblem[] = []
  for (const asset of Object.keys(spec.targets)) {
    if (asset === QUOTE_ASSET) continue
    const market = markets.get(`${asset}-${QUOTE_ASSET}`)
    if (!market || market.base !== asset || market.quote !== QUOTE_ASSET) {
      problems.push({ field: `targets.${asset}`, rule: `has no ${asset}-${QUOTE_ASSET} market at the operator (markets: ${[...markets.keys()].join(', ')})` })
    }
  }
  if (problems.length > 0) throw new ScheduleValidationError(problems)
}
