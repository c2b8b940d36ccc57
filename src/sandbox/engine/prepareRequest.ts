import type { Hex } from 'viem'
import type { SandboxState } from '../state.js'
import { nonceWindowOf } from '../state.js'
import type { VerifiedRequest } from '../verify/verifyRequest.js'
import { prepareCancel, prepareCancelAll } from './cancelOrders.js'
import { prepareModify } from './modifyOrder.js'
import { prepareOrder } from './placeOrder.js'
import type { Receipt } from './types.js'

/** The effect of a request, run only once every check (rate limit and faults included) has passed. */
export type Commit = () => { clientOrderId?: Hex; orderId?: string; seq: string; cancelled?: Hex[] }

/**
 * Runs the business checks (UnknownOrder, InsufficientBalance,
 * PostOnlyWouldCross: they throw) and returns the function that applies the
 * request and records it (nonce, replay and cloid receipts) exactly once.
 */
export function prepareRequest(state: SandboxState, verified: VerifiedRequest): () => Receipt {
  const { request, market, delegation } = verified
  let commit: Commit
  switch (request.family) {
    case 'Order': commit = prepareOrder(state, request.message, market!, delegation); break
    case 'ModifyOrder': commit = prepareModify(state, request.message, market!, delegation); break
    case 'CancelOrder': commit = prepareCancel(state, request.message, market!, delegation); break
    case 'CancelAll': commit = prepareCancelAll(state, request.message, market, delegation); break
  }
  return () => {
    const acceptedAt = state.now()
    const effect = commit()
    const receipt: Receipt = {
      requestId: verified.requestId,
      family: request.family,
      wallet: delegation.wallet,
      ...effect,
      status: 'accepted',
      duplicate: false,
      acceptedAt,
    }
    nonceWindowOf(state, delegation.sessionPublicKey).record(request.message.nonce)
    state.replays.set(verified.replayKey, receipt)
    if (request.family === 'Order') state.wallets.get(delegation.walletKey)!.receiptsByCloid.set(request.message.clientOrderId, receipt)
    return receipt
  }
}
