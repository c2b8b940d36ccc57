import type { RequestFamily } from '../acl/actions.js'
import { BPS, ONE, formatAmount } from '../money/decimal.js'

/** Local limits a wallet (or one session) places on automated trading. Amounts are 18-decimal bigints. */
export type PolicyRules = {
  allowedMarkets?: readonly string[]
  maxOrderNotional?: bigint
  maxDailyNotional?: bigint
  /** Limit price at most this far from the mark, in basis points. */
  priceBandBps?: number
  maxOpenOrders?: number
  maxRequestsPerMinute?: number
}

/** What the runtime knows when it asks; only what the rules need must be present. */
export type PolicyFacts = {
  family: RequestFamily
  market: string
  price?: bigint
  size?: bigint
  mark?: bigint
  /** Notional already placed today, not counting this request. */
  dailyNotional?: bigint
  /** Live orders and orders on their way to the operator (submitting, unknown), not counting this one. */
  openOrders?: number
  /** Requests sent in the last 60 s. */
  requestsLastMinute?: number
}

export type PolicyRefusal = { rule: keyof PolicyRules; message: string }

/**
 * The first rule a request breaks, or null. Cancels are never refused: a
 * policy must not stand between a user and reducing their risk.
 */
export function evaluatePolicy(rules: PolicyRules, facts: PolicyFacts): PolicyRefusal | null {
  if (facts.family === 'CancelOrder' || facts.family === 'CancelAll') return null
  if (rules.allowedMarkets && !rules.allowedMarkets.includes(facts.market)) {
    return { rule: 'allowedMarkets', message: `market ${facts.market} is not allowed (allowed: ${rules.allowedMarkets.join(', ') || 'none'})` }
  }
  if (rules.maxRequestsPerMinute !== undefined && (facts.requestsLastMinute ?? 0) >= rules.maxRequestsPerMinute) {
    return { rule: 'maxRequestsPerMinute', message: `${facts.requestsLastMinute ?? 0} requests in the last minute reach the limit of ${rules.maxRequestsPerMinute}` }
  }
  // Rounded up to 18 decimals: a notional past a limit by less than its last decimal is past it.
  const notional = facts.price !== undefined && facts.size !== undefined ? (facts.price * facts.size + ONE - 1n) / ONE : undefined
  if (notional !== undefined && rules.maxOrderNotional !== undefined && notional > rules.maxOrderNotional) {
    return { rule: 'maxOrderNotional', message: `order notional ${formatAmount(notional)} exceeds ${formatAmount(rules.maxOrderNotional)}` }
  }
  if (notional !== undefined && rules.maxDailyNotional !== undefined && (facts.dailyNotional ?? 0n) + notional > rules.maxDailyNotional) {
    return { rule: 'maxDailyNotional', message: `today's notional would reach ${formatAmount((facts.dailyNotional ?? 0n) + notional)}, above ${formatAmount(rules.maxDailyNotional)}` }
  }
  if (rules.priceBandBps !== undefined && facts.price !== undefined && facts.mark !== undefined) {
    // A band is a guard against a price far from the market: with no mark to measure it from, the
    // price is refused, not let through unchecked.
    if (facts.mark <= 0n) {
      return { rule: 'priceBandBps', message: `no mark price for ${facts.market} (the operator quotes ${formatAmount(facts.mark)}): a price band of ${rules.priceBandBps} bps cannot be checked` }
    }
    const distance = facts.price > facts.mark ? facts.price - facts.mark : facts.mark - facts.price
    if (distance * BPS > facts.mark * BigInt(rules.priceBandBps)) {
      return { rule: 'priceBandBps', message: `price ${formatAmount(facts.price)} is more than ${rules.priceBandBps} bps from the mark ${formatAmount(facts.mark)}` }
    }
  }
  if (facts.family === 'Order' && rules.maxOpenOrders !== undefined && (facts.openOrders ?? 0) >= rules.maxOpenOrders) {
    return { rule: 'maxOpenOrders', message: `${facts.openOrders ?? 0} open orders reach the limit of ${rules.maxOpenOrders}` }
  }
  return null
}
