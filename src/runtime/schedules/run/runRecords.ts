import { Side } from '../../../core/eip712/types.js'
import { formatAmount } from '../../../core/money/decimal.js'
import type { Holding, RebalanceAdjustment, RebalanceLeg, SkippedTarget } from '../../../core/rebalance/types.js'
import type { RunAdjustment, RunHolding, RunLeg, RunSkip } from '../../../store/schema/index.js'

/**
 * Core's bigint results as the run log stores them (jsonb, decimals as exact
 * strings), so a reader can print a before/after table without the math.
 */
export const runRecords = {
  holdings: (rows: readonly Holding[]): RunHolding[] => rows.map((h) => ({
    asset: h.asset, balance: formatAmount(h.balance), value: formatAmount(h.value), weight: formatAmount(h.weight), target: formatAmount(h.target),
  })),
  leg: (leg: RebalanceLeg, ids: { intentId: string; orderId: string; clientOrderId: string }): RunLeg => ({
    leg: leg.leg,
    asset: leg.asset,
    market: leg.market,
    side: leg.side === Side.buy ? 'buy' : 'sell',
    size: formatAmount(leg.size),
    price: formatAmount(leg.price),
    notional: formatAmount(leg.notional),
    mark: formatAmount(leg.mark),
    idealSize: formatAmount(leg.idealSize),
    limitedBy: [...leg.limitedBy],
    ...ids,
  }),
  skips: (skipped: readonly SkippedTarget[]): RunSkip[] => skipped.map((s) => ({ ...(s.asset === undefined ? {} : { asset: s.asset }), reason: s.reason, detail: s.detail })),
  adjustments: (adjustments: readonly RebalanceAdjustment[]): RunAdjustment[] => adjustments.map((a) => ({
    reason: a.reason, requestedNotional: formatAmount(a.requestedNotional), budget: formatAmount(a.budget), resultingNotional: formatAmount(a.resultingNotional),
  })),
}
