import { Side } from '../eip712/types.js'
import { ONE } from '../money/decimal.js'

/**
 * size × price in quote units. A buy rounds up (the most it can cost) and a sell
 * down (the least it yields), so budgets built from these never overspend.
 */
export function legNotional(side: Side, size: bigint, price: bigint): bigint {
  const product = size * price
  return side === Side.buy ? (product + ONE - 1n) / ONE : product / ONE
}
