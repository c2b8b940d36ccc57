import { formatAmount } from '../../core/money/decimal.js'
import { ONE } from '../../core/money/decimal.js'
import type { Market } from '../config.js'
import type { SandboxState } from '../state.js'
import type { FillRecord, SandboxOrder, WalletState } from './types.js'

/**
 * Read models (PROTOCOL.md §6). Amounts are decimal strings ("2000.5"), side is
 * "buy" | "sell", `averagePrice` is "0" before the first fill.
 */
export function orderView(order: SandboxOrder) {
  return {
    clientOrderId: order.clientOrderId,
    orderId: order.orderId,
    market: order.market.market,
    side: order.side === 0 ? 'buy' : 'sell',
    price: formatAmount(order.price),
    size: formatAmount(order.size),
    filled: formatAmount(order.filled),
    averagePrice: order.filled === 0n ? '0' : formatAmount((order.filledNotional * ONE) / order.filled),
    status: order.status,
    revision: order.revision,
    updatedAt: order.updatedAt,
  }
}
export type OrderView = ReturnType<typeof orderView>

export function fillView(fill: FillRecord) {
  return {
    fillId: fill.fillId,
    seq: fill.seq,
    clientOrderId: fill.clientOrderId,
    market: fill.market,
    side: fill.side === 0 ? 'buy' : 'sell',
    price: formatAmount(fill.price),
    size: formatAmount(fill.size),
    fee: formatAmount(fill.fee),
    at: fill.at,
  }
}

/** Every configured asset, zero when never funded; `available` excludes what resting orders hold. */
export function balancesView(state: SandboxState, wallet: WalletState | undefined) {
  const assets = new Set([...state.config.assets, ...(wallet?.balances.keys() ?? [])])
  return [...assets].map((asset) => {
    const balance = wallet?.balances.get(asset)
    const total = balance?.total ?? 0n
    return { asset, total: formatAmount(total), available: formatAmount(total - (balance?.held ?? 0n)) }
  })
}

export function marketView(market: Market) {
  return { market: market.market, base: market.base, quote: market.quote, tickSize: formatAmount(market.tickSize), lotSize: formatAmount(market.lotSize) }
}

/** The maker quotes both sides at the mark, so bid = ask = mark. */
export function tickerView(market: Market) {
  const mark = formatAmount(market.mark)
  return { market: market.market, bid: mark, ask: mark, mark }
}
