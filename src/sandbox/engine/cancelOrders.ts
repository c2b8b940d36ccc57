import type { Hex } from 'viem'
import type { CancelAllMessage, CancelOrderMessage } from '../../core/eip712/types.js'
import type { Market } from '../config.js'
import { type SandboxState, walletOf } from '../state.js'
import type { KnownDelegation } from '../verify/DelegationRegistry.js'
import { openOrderOf } from './modifyOrder.js'
import { cancelOrder, isOpen } from './orderBook.js'
import type { Commit } from './prepareRequest.js'

export function prepareCancel(state: SandboxState, message: CancelOrderMessage, market: Market, delegation: KnownDelegation): Commit {
  const order = openOrderOf(state, delegation.walletKey, message.clientOrderId, market)
  return () => {
    const cancelled = cancelOrder(state, order, 'user')
    return { clientOrderId: order.clientOrderId, orderId: order.orderId, seq: cancelled.seq }
  }
}

/** Cancels every open order of the wallet in `market`, or in every market when it is undefined (`""`). */
export function prepareCancelAll(state: SandboxState, _message: CancelAllMessage, market: Market | undefined, delegation: KnownDelegation): Commit {
  return () => {
    const wallet = walletOf(state, delegation.walletKey)
    const cancelled: Hex[] = []
    let seq = String(wallet.events.head)
    for (const order of wallet.orders.values()) {
      if (!isOpen(order) || (market && order.market !== market)) continue
      seq = cancelOrder(state, order, 'cancelAll').seq
      cancelled.push(order.clientOrderId)
    }
    return { seq, cancelled }
  }
}
