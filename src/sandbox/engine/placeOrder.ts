import type { OrderMessage } from '../../core/eip712/types.js'
import { formatAmount } from '../../core/money/decimal.js'
import type { Market } from '../config.js'
import { SandboxError } from '../SandboxError.js'
import { type SandboxState, balanceOf, walletOf } from '../state.js'
import type { KnownDelegation } from '../verify/DelegationRegistry.js'
import { cancelOrder, crosses, holdAsset, holdFor, remainingOf, setHold, takeAtMark } from './orderBook.js'
import type { Commit } from './prepareRequest.js'
import type { SandboxOrder } from './types.js'

const sides = ['buy', 'sell'] as const
const timesInForce = ['GTC', 'IOC', 'POST_ONLY'] as const

/**
 * Business checks of an Order (422s), then a commit that places it: accepted,
 * filled at the mark as far as the maker's size allows when it crosses, the
 * rest resting (GTC, POST_ONLY) or cancelled (IOC).
 */
export function prepareOrder(state: SandboxState, message: OrderMessage, market: Market, delegation: KnownDelegation): Commit {
  const wallet = walletOf(state, delegation.walletKey)
  const side = message.side
  const reject = (code: 'PostOnlyWouldCross' | 'InsufficientBalance', text: string): SandboxError => {
    wallet.events.append('OrderRejected', state.now(), {
      clientOrderId: message.clientOrderId,
      data: { code, message: text, market: market.market, side: sides[side], price: formatAmount(message.price), size: formatAmount(message.size) },
    })
    return new SandboxError(code, text)
  }
  if (message.timeInForce === 2 && crosses(side, message.price, market.mark)) {
    throw reject('PostOnlyWouldCross', `a post-only ${sides[side]} at ${formatAmount(message.price)} would cross the mark ${formatAmount(market.mark)}`)
  }
  const hold = holdFor(state, side, message.price, message.size)
  const asset = holdAsset(market, side)
  const balance = balanceOf(wallet, asset)
  if (balance.total - balance.held < hold) {
    throw reject('InsufficientBalance', `${asset} available ${formatAmount(balance.total - balance.held)} is below the ${formatAmount(hold)} this order needs`)
  }
  return () => {
    const at = state.now()
    const order: SandboxOrder = {
      orderId: String(++state.counters.order),
      clientOrderId: message.clientOrderId,
      wallet,
      market,
      side,
      timeInForce: message.timeInForce,
      price: message.price,
      size: message.size,
      filled: 0n,
      filledNotional: 0n,
      held: 0n,
      status: 'open',
      revision: 0,
      updatedAt: at,
      delegationHash: delegation.hash,
    }
    setHold(order, hold)
    wallet.orders.set(order.clientOrderId, order)
    const accepted = wallet.events.append('OrderAccepted', at, {
      clientOrderId: order.clientOrderId,
      orderId: order.orderId,
      data: {
        market: market.market, side: sides[side], price: formatAmount(order.price), size: formatAmount(order.size),
        timeInForce: timesInForce[order.timeInForce], revision: 0,
      },
    })
    takeAtMark(state, order)
    if (remainingOf(order) > 0n) {
      if (order.timeInForce === 1) cancelOrder(state, order, 'ioc')
      else state.books.get(market.market)!.add(order)
    }
    return { clientOrderId: order.clientOrderId, orderId: order.orderId, seq: accepted.seq }
  }
}
