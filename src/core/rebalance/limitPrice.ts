import { Side } from '../eip712/types.js'
import { BPS } from '../money/decimal.js'
import { ceilToStep, floorToStep } from '../money/increments.js'

export type LimitPriceParameters = {
  side: Side
  /** 18-decimal mark price. */
  mark: bigint
  /** Offset from the mark in basis points (0–1000). */
  offsetBps: number
  tickSize: bigint
}

/**
 * A leg's limit price: mark × (1 + bps) for a buy, mark × (1 − bps) for a sell,
 * rounded to the tick away from the mark (buys up, sells down) so the order stays
 * at least as marketable as the offset asked for. A sell can round to 0 when the
 * mark is below one tick; the caller must treat that as unpriceable, and skips a
 * leg whose tick takes the price far past the offset (`proposeLeg`).
 */
export function limitPrice({ side, mark, offsetBps, tickSize }: LimitPriceParameters): bigint {
  const bps = BigInt(offsetBps)
  if (side === Side.buy) {
    const scaled = mark * (BPS + bps)
    // Ceil the division first: rounding twice upwards equals rounding the exact value up to the tick.
    return ceilToStep((scaled + BPS - 1n) / BPS, tickSize)
  }
  return floorToStep((mark * (BPS - bps)) / BPS, tickSize)
}
