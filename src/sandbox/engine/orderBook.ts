import { formatAmount } from '../../core/money/decimal.js'
import { mulAmount } from '../../core/money/increments.js'
import type { Market } from '../config.js'
import { type SandboxState, balanceOf } from '../state.js'
import type { CancelReason, SandboxEvent, SandboxOrder } from './types.js'

const BPS = 10_000n

/** Whether a limit price is marketable against the maker, who quotes both sides at the mark. */
export function crosses(side: 0 | 1, price: bigint, mark: bigint): boolean {
  return side === 0 ? price >= mark : price <= mark
}

export function holdAsset(market: Market, side: 0 | 1): string {
  return side === 0 ? market.quote : market.base
}

/**
 * Funds an order must hold for `remaining` at its limit: a buy holds the
 * notional plus the highest fee it could pay (rounded up), a sell holds base.
 */
export function holdFor(state: SandboxState, side: 0 | 1, price: bigint, remaining: bigint): bigint {
  if (side === 1) return remaining
  const notional = mulAmount(price, remaining)
  const { takerBps, makerBps } = state.config
  const fee = notional * (takerBps > makerBps ? takerBps : makerBps)
  return notional + (fee + BPS - 1n) / BPS
}

/** Moves the order's hold to `next`, keeping the wallet's held total in step. */
export function setHold(order: SandboxOrder, next: bigint): void {
  const balance = balanceOf(order.wallet, holdAsset(order.market, order.side))
  balance.held += next - order.held
  order.held = next
}

export function remainingOf(order: SandboxOrder): bigint {
  return order.size - order.filled
}

/**
 * Fills `size` of the order at `price`: balances move, the hold shrinks to
 * what the remainder needs, an OrderFilled event and a fill record are written.
 */
export function applyFill(state: SandboxState, order: SandboxOrder, price: bigint, size: bigint, liquidity: 'taker' | 'maker'): SandboxEvent {
  const { market, wallet } = order
  const notional = mulAmount(price, size)
  const fee = (notional * (liquidity === 'taker' ? state.config.takerBps : state.config.makerBps)) / BPS
  const base = balanceOf(wallet, market.base)
  const quote = balanceOf(wallet, market.quote)
  order.filled += size
  order.filledNotional += notional
  const remaining = remainingOf(order)
  setHold(order, holdFor(state, order.side, order.price, remaining))
  if (order.side === 0) {
    base.total += size
    quote.total -= notional + fee
  } else {
    base.total -= size
    quote.total += notional - fee
  }
  const at = state.now()
  order.status = remaining === 0n ? 'filled' : 'partiallyFilled'
  order.updatedAt = at
  if (remaining === 0n) state.books.get(market.market)?.delete(order)
  const fillId = String(++state.counters.fill)
  const event = wallet.events.append('OrderFilled', at, {
    clientOrderId: order.clientOrderId,
    orderId: order.orderId,
    data: {
      fillId, market: market.market, side: order.side === 0 ? 'buy' : 'sell', liquidity,
      price: formatAmount(price), size: formatAmount(size), fee: formatAmount(fee), feeAsset: market.quote,
      remaining: formatAmount(remaining),
    },
  })
  wallet.fills.push({ fillId, seq: event.seq, clientOrderId: order.clientOrderId, market: market.market, side: order.side, price, size, fee, at })
  return event
}

/** Takes what the maker offers at the mark right now (one level of `makerSize`). */
export function takeAtMark(state: SandboxState, order: SandboxOrder): void {
  const remaining = remainingOf(order)
  if (remaining > 0n && crosses(order.side, order.price, order.market.mark)) {
    const size = remaining < order.market.makerSize ? remaining : order.market.makerSize
    applyFill(state, order, order.market.mark, size, 'taker')
  }
}

/** Cancels an open order: its hold is released and an OrderCancelled event written. */
export function cancelOrder(state: SandboxState, order: SandboxOrder, reason: CancelReason): SandboxEvent {
  setHold(order, 0n)
  const at = state.now()
  order.status = 'cancelled'
  order.updatedAt = at
  state.books.get(order.market.market)?.delete(order)
  return order.wallet.events.append('OrderCancelled', at, {
    clientOrderId: order.clientOrderId,
    orderId: order.orderId,
    data: { reason, market: order.market.market, filled: formatAmount(order.filled), remaining: formatAmount(remainingOf(order)) },
  })
}

export function isOpen(order: SandboxOrder): boolean {
  return order.status === 'open' || order.status === 'partiallyFilled'
}
