import type { Hex } from 'viem'
import { deriveClientOrderId } from '../../../core/requests/deriveClientOrderId.js'

/**
 * A rebalance leg's client order id: a pure function of (schedule, slot, leg),
 * the same key as the intents' unique index, so neither a re-run of the slot nor
 * a lost database row can mint a second order at the operator for one leg.
 */
export function legClientOrderId(scheduleId: string, slot: Date, leg: number): Hex {
  return deriveClientOrderId(`${scheduleId}:${slot.getTime()}:${leg}`, 0, 'rebalance')
}
