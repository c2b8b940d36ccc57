import type { Hex } from 'viem'
import { type SandboxState, walletOf } from '../state.js'
import type { KnownDelegation } from '../verify/DelegationRegistry.js'
import { cancelOrder, isOpen } from './orderBook.js'

export type SessionEnd = { cancelled: Hex[]; seq: string }

/**
 * Ends a session: cancels the open orders its delegation placed (reason
 * `sessionExpired` or `sessionRevoked`), then emits SessionExpired or
 * SessionRevoked. Expiry is processed once; a revocation always emits.
 */
export function endSession(state: SandboxState, delegation: KnownDelegation, reason: 'sessionExpired' | 'sessionRevoked'): SessionEnd {
  const wallet = walletOf(state, delegation.walletKey)
  const cancelled: Hex[] = []
  for (const order of wallet.orders.values()) {
    if (order.delegationHash !== delegation.hash || !isOpen(order)) continue
    cancelOrder(state, order, reason)
    cancelled.push(order.clientOrderId)
  }
  if (reason === 'sessionRevoked') delegation.revoked = true
  delegation.ended = true
  const event = wallet.events.append(reason === 'sessionRevoked' ? 'SessionRevoked' : 'SessionExpired', state.now(), {
    data: { delegation: delegation.hash, sessionPublicKey: delegation.sessionPublicKey, expiry: delegation.expiry.toString(), cancelled },
  })
  for (const listener of state.sessionEnded) listener(delegation)
  return { cancelled, seq: event.seq }
}

/** The periodic sweep: every delegation past its expiry that has not ended yet ends now. */
export function sweepExpired(state: SandboxState): void {
  const now = state.now()
  for (const delegation of state.delegations.all()) {
    if (!delegation.ended && now >= delegation.expiresAtMs) endSession(state, delegation, 'sessionExpired')
  }
}
