import type { Market } from '../config.js'
import type { SandboxState } from '../state.js'
import { applyFill, crosses, remainingOf } from './orderBook.js'

/**
 * Moves a market's mark and fills the resting orders it crosses, each at its
 * own limit (maker) for up to one level of the maker's size. Moving to the
 * same price sweeps again, which lets a partially filled order take another level.
 * Returns the number of fills.
 */
export function setMark(state: SandboxState, market: Market, price: bigint): number {
  market.mark = price
  let fills = 0
  for (const order of [...state.books.get(market.market)!]) {
    if (!crosses(order.side, order.price, price)) continue
    const remaining = remainingOf(order)
    applyFill(state, order, order.price, remaining < market.makerSize ? remaining : market.makerSize, 'maker')
    fills += 1
  }
  return fills
}
