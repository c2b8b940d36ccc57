import type { Side } from '../eip712/types.js'

/** Every market a schedule trades quotes in this asset; it is the portfolio's unit of value. */
export const QUOTE_ASSET = 'USD'

/** One market as `GET /v1/markets` lists it, amounts as 18-decimal bigints. */
export type RebalanceMarket = {
  market: string
  base: string
  quote: string
  tickSize: bigint
  lotSize: bigint
}

/** Why a leg was scaled down. */
export type LegLimit = 'maxNotionalPerRun' | 'insufficientQuote'

/** One order a run should place. All amounts are 18-decimal bigints. */
export type RebalanceLeg = {
  /**
   * Position of `asset` among the spec's non-quote target assets sorted by code
   * unit. It depends on the spec alone (not on balances or on which legs exist),
   * so (schedule, slot, leg) stays the same idempotency key across re-runs of a slot. An edit of the
   * targets between a run's two stages renumbers the assets: the run then matches its legs by asset,
   * and a buy whose number a sell of another asset holds is placed under a free one (`numberLegs`).
   */
  leg: number
  asset: string
  market: string
  side: Side
  /** A multiple of the market's lot; never more than held for a sell. */
  size: bigint
  /** Limit price, a multiple of the market's tick, on the marketable side of the mark. */
  price: bigint
  /** size × price: rounded up for a buy (most it can cost), down for a sell (least it yields). */
  notional: bigint
  /** The mark the leg was sized and priced from. */
  mark: bigint
  /** Lot-rounded size before any cap scaled it down. */
  idealSize: bigint
  /** Caps that scaled this leg down, in the order they were applied. */
  limitedBy: readonly LegLimit[]
}

export type SkipReason =
  /** The trade is below `minTradeNotional` or below one lot. */
  | 'dust'
  /** No `<ASSET>-USD` market (or one with an unusable tick/lot): the weight cannot be reached. */
  | 'noMarket'
  /** The market exists but has no usable mark, or the limit price rounds to zero. */
  | 'noMark'
  /** The tick is so coarse against the mark that the rounded limit price is more than 10 bps past `limitOffsetBps`. */
  | 'tickTooCoarse'
  /** `maxNotionalPerRun` scaled the leg below one lot or `minTradeNotional`. */
  | 'maxNotionalPerRun'
  /** Quote on hand plus sell proceeds could not pay for the leg once scaled. */
  | 'insufficientQuote'
  /** The managed portfolio is worth nothing at the marks: nothing to weigh. */
  | 'emptyPortfolio'
  /** A targeted asset is held but its market has no mark: no weight is known, so nothing trades this run. */
  | 'unvalued'
  /** Held but not in the targets: left untouched and outside the portfolio value. */
  | 'untargeted'

/** A target (or holding) the run does not trade, and why. */
export type SkippedTarget = {
  /** Absent only for `emptyPortfolio`, which concerns the whole portfolio. */
  asset?: string
  reason: SkipReason
  /** Human-readable specifics for run logs. */
  detail: string
  /** The leg as computed before it was dropped (dust, caps), when it had at least one lot. */
  proposed?: RebalanceLeg
}

/** A cap that scaled legs down. */
export type RebalanceAdjustment = {
  reason: LegLimit
  /** Total notional of the legs the cap applied to, before scaling. */
  requestedNotional: bigint
  /** What the cap allowed: `maxNotionalPerRun`, or quote on hand plus sell proceeds. */
  budget: bigint
  /** Total notional of those legs after scaling (lot rounding leaves it at or below the budget). */
  resultingNotional: bigint
}

/** One row of a before/after table. Amounts and weights are 18-decimal bigints (`formatAmount` prints them). */
export type Holding = {
  asset: string
  balance: bigint
  /** balance × mark, rounded down; the balance itself for the quote asset. */
  value: bigint
  /** value ÷ portfolio value, rounded down; 1 is `ONE`. */
  weight: bigint
  /** The spec's target weight (0 for the quote asset when the spec gives it none). */
  target: bigint
}
