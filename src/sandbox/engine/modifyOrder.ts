import type { ModifyOrderMessage } from '../../core/eip712/types.js'
import { formatAmount } from '../../core/money/decimal.js'
import type { Market } from '../config.js'
import { SandboxError, invalid } from '../SandboxError.js'
import { type SandboxState, balanceOf, walletOf } from '../state.js'
import type { KnownDelegation } from '../verify/DelegationRegistry.js'
import { crosses, holdAsset, holdFor, isOpen, remainingOf, setHold, takeAtMark } from './orderBook.js'
import type { Commit } from './prepareRequest.js'
import type { SandboxOrder } from './types.js'

/** The open order a Modify or Cancel targets, or UnknownOrder (404). */
export function openOrderOf(state: SandboxState, walletKey: string, clientOrderId: string, market: Market): SandboxOrder {
  const order = state.wallets.get(walletKey)?.orders.get(clientOrderId)
  if (!order || !isOpen(order) || order.market !== market) {
    throw new SandboxError('UnknownOrder', `no open order ${clientOrderId} in ${market.market}`)
  }
  return order
}

/**
 * Modify keeps the cloid and orderId, sets a new price and a new total size
 * (which must exceed what already filled), bumps `revision`, and fills at once
 * when the new price crosses the mark.
 */
export function prepareModify(state: SandboxState, message: ModifyOrderMessage, market: Market, delegation: KnownDelegation): Commit {
  const order = openOrderOf(state, delegation.walletKey, message.clientOrderId, market)
  if (message.size <= order.filled) {
    throw invalid(`message.size: ${formatAmount(message.size)} must exceed the ${formatAmount(order.filled)} already filled (size is the new total)`)
  }
  if (order.timeInForce === 2 && crosses(order.side, message.price, market.mark)) {
    throw new SandboxError('PostOnlyWouldCross', `the post-only order would cross the mark ${formatAmount(market.mark)} at ${formatAmount(message.price)}`)
  }
  const hold = holdFor(state, order.side, message.price, message.size - order.filled)
  const asset = holdAsset(market, order.side)
  const balance = balanceOf(walletOf(state, delegation.walletKey), asset)
  if (balance.total - balance.held + order.held < hold) {
    throw new SandboxError('InsufficientBalance', `${asset} available ${formatAmount(balance.total - balance.held + order.held)} (with this order's hold) is below the ${formatAmount(hold)} the modified order needs`)
  }
  return () => {
    order.price = message.price
    order.size = message.size
    order.revision += 1
    order.updatedAt = state.now()
    order.status = order.filled > 0n ? 'partiallyFilled' : 'open'
    setHold(order, hold)
    const modified = order.wallet.events.append('OrderModified', order.updatedAt, {
      clientOrderId: order.clientOrderId,
      orderId: order.orderId,
      data: { market: market.market, price: formatAmount(order.price), size: formatAmount(order.size), remaining: formatAmount(remainingOf(order)), revision: order.revision },
    })
    takeAtMark(state, order)
    return { clientOrderId: order.clientOrderId, orderId: order.orderId, seq: modified.seq }
  }
}
