import { Side } from '../eip712/types.js'
import { ValidationError } from '../errors/ValidationError.js'
import { BPS, formatAmount } from '../money/decimal.js'
import { holdingsTable } from './holdingsTable.js'
import type { ScheduleSpec } from './parseScheduleSpec.js'
import { MAX_LIMIT_OFFSET_BPS } from './parseScheduleSpec.js'
import { proposeLeg } from './proposeLeg.js'
import { scaleLegs } from './scaleLegs.js'
import { type Holding, QUOTE_ASSET, type RebalanceAdjustment, type RebalanceLeg, type RebalanceMarket, type SkippedTarget } from './types.js'

/** The parts of a parsed spec (`parseScheduleSpec`) the math reads. */
export type RebalanceSpec = Pick<ScheduleSpec, 'targets' | 'toleranceBand' | 'minTradeNotional' | 'limitOffsetBps' | 'maxNotionalPerRun'>

export type ComputeRebalanceParameters = {
  /** asset → total balance (18 decimals): what the portfolio is worth. */
  balances: Readonly<Record<string, bigint>>
  /**
   * asset → spendable balance, when other open orders reserve funds: caps sells
   * and the quote a run may spend. Defaults to `balances`; an asset missing here is 0.
   */
  available?: Readonly<Record<string, bigint>>
  /** market name → mark price (18 decimals). */
  marks: Readonly<Record<string, bigint>>
  markets: readonly RebalanceMarket[]
  spec: RebalanceSpec
  /**
   * Kept out of the buy budget for the operator's fees, in basis points (default 0): a buy holds its
   * notional plus its fee, and a sell's proceeds arrive less theirs.
   */
  feeReserveBps?: number
  /**
   * `buys`: the second stage of a run whose sells went first. Their proceeds are in the balances
   * now, so no sell is proposed (or counted) again; `maxNotionalPerRun` should be what the sells left.
   */
  only?: 'buys'
}

export type ComputeRebalanceResult = {
  /** In submission order: sells first (their proceeds fund the buys), then buys; each by `leg`. */
  legs: RebalanceLeg[]
  skipped: SkippedTarget[]
  /** Caps that scaled legs down (`maxNotionalPerRun`, then `insufficientQuote`). */
  adjustments: RebalanceAdjustment[]
  /** Value of the managed portfolio (quote plus targeted assets with a mark), in quote units. */
  portfolioValue: bigint
  /** Its value at the marks if every leg fills at its limit price (the offset is a cost). */
  projectedValue: bigint
  /** Quote asset and every targeted asset with a market and mark, sorted by asset. */
  before: Holding[]
  /** The same rows if every leg fills at its limit price, valued at the marks. */
  after: Holding[]
}

export type ComputeRebalanceErrorType = ValidationError

function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined
}

function checkAmounts(field: string, record: Readonly<Record<string, bigint>>): void {
  for (const [key, value] of Object.entries(record)) {
    if (typeof value !== 'bigint' || value < 0n) throw new ValidationError(`${field}.${key}`, 'must be a non-negative bigint')
  }
}

type Valued = { asset: string; leg: number; market: RebalanceMarket; mark: bigint }

/** Finds each target's `<ASSET>-USD` market and mark; the rest become skips. */
function resolveMarkets(p: ComputeRebalanceParameters, assets: readonly string[], skipped: SkippedTarget[]): Valued[] {
  const byName = new Map<string, RebalanceMarket>()
  for (const market of p.markets) {
    if (byName.has(market.market)) throw new ValidationError('markets', `must not list ${market.market} twice`)
    byName.set(market.market, market)
  }
  const valued: Valued[] = []
  assets.forEach((asset, leg) => {
    const name = `${asset}-${QUOTE_ASSET}`
    const market = byName.get(name)
    const stays = `target weight ${formatAmount(own(p.spec.targets, asset) ?? 0n)} cannot be reached and stays in ${QUOTE_ASSET}`
    if (market === undefined || market.base !== asset || market.quote !== QUOTE_ASSET) {
      skipped.push({ asset, reason: 'noMarket', detail: `no ${name} market: ${stays}` })
    } else if (market.tickSize <= 0n || market.lotSize <= 0n) {
      skipped.push({ asset, reason: 'noMarket', detail: `${name} has no usable tick or lot size: ${stays}` })
    } else {
      const mark = own(p.marks, name)
      if (mark === undefined || mark === 0n) skipped.push({ asset, reason: 'noMark', detail: `no mark for ${name}: ${stays}` })
      else valued.push({ asset, leg, market, mark })
    }
  })
  return valued
}

/** Highest fee reserve accepted (10%): more is a typo, not a fee. */
export const MAX_FEE_RESERVE_BPS = 1_000
/** The fee reserve a rebalancing run keeps unless configured (`REBALANCE_FEE_RESERVE_BPS`). */
export const DEFAULT_FEE_RESERVE_BPS = 10

/**
 * What buys may spend: the quote on hand plus the sells' proceeds less their fees, less what the
 * buys' own fees will hold (a buy of notional n holds n plus its fee).
 */
export function buyBudget(availableQuote: bigint, proceeds: bigint, feeReserveBps: number): bigint {
  const bps = BigInt(feeReserveBps)
  return (availableQuote * BPS + proceeds * (BPS - bps)) / (BPS + bps)
}

function capSkips(dropped: readonly RebalanceLeg[], reason: 'maxNotionalPerRun' | 'insufficientQuote'): SkippedTarget[] {
  const why = reason === 'maxNotionalPerRun' ? 'maxNotionalPerRun scaled it' : 'quote on hand plus sell proceeds scaled it'
  return dropped.map((leg) => ({ asset: leg.asset, reason, detail: `${why} below one lot or minTradeNotional`, proposed: leg }))
}

/**
 * The orders that move a portfolio towards its target weights. Pure.
 *
 * Every asset is valued in USD at its `<ASSET>-USD` mark. A targeted asset whose
 * weight drifts beyond `toleranceBand` gets a leg sized at the mark (lot rounding
 * never overshoots the target, a sell never exceeds what is available) and priced
 * `limitOffsetBps` past the mark, rounded to the tick on the marketable side. Then:
 * legs under `minTradeNotional` are dust; `maxNotionalPerRun` scales all legs
 * proportionally; buys are scaled to fit quote on hand plus sell proceeds, less
 * `feeReserveBps` for the fees on both.
 * USD is never traded itself: its weight is whatever the other legs leave, so a
 * weight that cannot be reached (no market or mark) stays in USD; but a target held
 * whose market has no mark cannot be valued, so no weight is known and the run
 * trades nothing. Held assets that are not targets are left alone and kept out of
 * the portfolio value.
 */
export function computeRebalance(p: ComputeRebalanceParameters): ComputeRebalanceResult {
  const { spec } = p
  checkAmounts('balances', p.balances)
  if (p.available) checkAmounts('available', p.available)
  checkAmounts('marks', p.marks)
  if (!Number.isInteger(spec.limitOffsetBps) || spec.limitOffsetBps < 0 || spec.limitOffsetBps > MAX_LIMIT_OFFSET_BPS) {
    throw new ValidationError('limitOffsetBps', `must be an integer from 0 to ${MAX_LIMIT_OFFSET_BPS}`)
  }
  const feeReserveBps = p.feeReserveBps ?? 0
  if (!Number.isInteger(feeReserveBps) || feeReserveBps < 0 || feeReserveBps > MAX_FEE_RESERVE_BPS) {
    throw new ValidationError('feeReserveBps', `must be an integer from 0 to ${MAX_FEE_RESERVE_BPS}`)
  }
  const balanceOf = (asset: string): bigint => own(p.balances, asset) ?? 0n
  const availableOf = (asset: string): bigint => (p.available ? (own(p.available, asset) ?? 0n) : balanceOf(asset))

  const skipped: SkippedTarget[] = []
  // The canonical order behind `leg`: depends on the spec only.
  const targetAssets = Object.keys(spec.targets).filter((asset) => asset !== QUOTE_ASSET).sort()
  const valued = resolveMarkets(p, targetAssets, skipped)
  for (const asset of Object.keys(p.balances).sort()) {
    if (asset !== QUOTE_ASSET && !Object.hasOwn(spec.targets, asset) && balanceOf(asset) > 0n) {
      skipped.push({ asset, reason: 'untargeted', detail: `${formatAmount(balanceOf(asset))} held but not a target: left untouched` })
    }
  }

  const managed = [QUOTE_ASSET, ...valued.map((v) => v.asset)].sort()
  const marks = new Map(valued.map((v) => [v.asset, v.mark]))
  const targets = new Map(Object.entries(spec.targets))
  const balances = new Map(managed.map((asset) => [asset, balanceOf(asset)]))
  const before = holdingsTable({ assets: managed, balances, marks, targets })
  // A target held whose market has no mark this run would drop out of the portfolio value, and every
  // other weight would read too high: an on-target portfolio would sell, and buy back once the mark
  // returns, paying the offset and fees both ways. (A market gone for good is left out on purpose.)
  const unvalued = skipped.flatMap(({ asset, reason }) => (reason === 'noMark' && asset !== undefined && balanceOf(asset) > 0n ? [asset] : []))
  if (unvalued.length > 0) {
    for (const asset of unvalued) {
      skipped.push({ asset, reason: 'unvalued', detail: `${asset} is held (${formatAmount(balanceOf(asset))}) but ${asset}-${QUOTE_ASSET} has no mark to value it: the weights of the others are unknown, so nothing is traded` })
    }
    return { legs: [], skipped, adjustments: [], portfolioValue: before.total, projectedValue: before.total, before: before.rows, after: before.rows }
  }
  if (before.total === 0n) {
    skipped.push({ reason: 'emptyPortfolio', detail: `the managed portfolio is worth 0 ${QUOTE_ASSET}: nothing to weigh` })
    return { legs: [], skipped, adjustments: [], portfolioValue: 0n, projectedValue: 0n, before: before.rows, after: before.rows }
  }

  const proposed: RebalanceLeg[] = []
  for (const { asset, leg, market, mark } of valued) {
    const result = proposeLeg({
      leg,
      asset,
      market,
      mark,
      balance: balanceOf(asset),
      available: availableOf(asset),
      target: targets.get(asset) ?? 0n,
      portfolioValue: before.total,
      toleranceBand: spec.toleranceBand,
      minTradeNotional: spec.minTradeNotional,
      limitOffsetBps: spec.limitOffsetBps,
    })
    if (result.kind === 'leg' && !(p.only === 'buys' && result.leg.side === Side.sell)) proposed.push(result.leg)
    else if (result.kind === 'skip') skipped.push(result.skip)
  }

  const lots = new Map(valued.map((v) => [v.market.market, v.market.lotSize]))
  const adjustments: RebalanceAdjustment[] = []
  let legs = [...proposed.filter((leg) => leg.side === Side.sell), ...proposed.filter((leg) => leg.side === Side.buy)]
  if (spec.maxNotionalPerRun !== undefined) {
    const capped = scaleLegs({ legs, budget: spec.maxNotionalPerRun, lots, minTradeNotional: spec.minTradeNotional, reason: 'maxNotionalPerRun' })
    legs = capped.legs
    skipped.push(...capSkips(capped.dropped, 'maxNotionalPerRun'))
    if (capped.adjustment) adjustments.push(capped.adjustment)
  }
  // Last, so the budget counts the sell proceeds that survived every other cap.
  const sells = legs.filter((leg) => leg.side === Side.sell)
  const proceeds = sells.reduce((sum, leg) => sum + leg.notional, 0n)
  const funded = scaleLegs({
    legs: legs.filter((leg) => leg.side === Side.buy),
    budget: buyBudget(availableOf(QUOTE_ASSET), proceeds, feeReserveBps),
    lots,
    minTradeNotional: spec.minTradeNotional,
    reason: 'insufficientQuote',
  })
  skipped.push(...capSkips(funded.dropped, 'insufficientQuote'))
  if (funded.adjustment) adjustments.push(funded.adjustment)
  legs = [...sells, ...funded.legs]

  const projected = new Map(balances)
  for (const leg of legs) {
    const sign = leg.side === Side.buy ? 1n : -1n
    projected.set(leg.asset, (projected.get(leg.asset) ?? 0n) + sign * leg.size)
    projected.set(QUOTE_ASSET, (projected.get(QUOTE_ASSET) ?? 0n) - sign * leg.notional)
  }
  const after = holdingsTable({ assets: managed, balances: projected, marks, targets })
  return { legs, skipped, adjustments, portfolioValue: before.total, projectedValue: after.total, before: before.rows, after: after.rows }
}
