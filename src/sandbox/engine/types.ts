import type { Address, Hex } from 'viem'
import type { RequestFamily } from '../../core/acl/actions.js'
import type { Market } from '../config.js'
import type { EventLog } from './EventLog.js'

/** The 200 body's `receipt` (PROTOCOL.md §5). */
export type Receipt = {
  /** The request's EIP-712 digest. */
  requestId: Hex
  family: RequestFamily
  wallet: Address
  clientOrderId?: Hex
  orderId?: string
  status: 'accepted'
  duplicate: boolean
  /** Seq of the event the request produced (OrderAccepted, OrderModified, OrderCancelled); CancelAll: its last cancellation, or the wallet's head when it cancelled nothing. */
  seq: string
  acceptedAt: number
  cancelled?: Hex[]
}

/** The 200 body's `revocation` of `POST /v1/sessions/revoke`. */
export type RevocationReceipt = {
  delegation: Hex
  wallet: Address
  status: 'revoked'
  duplicate: boolean
  /** Cloids of the open orders the revocation cancelled. */
  cancelled: Hex[]
  /** Seq of the SessionRevoked event. */
  seq: string
  revokedAt: number
}

export type OrderStatus = 'open' | 'partiallyFilled' | 'filled' | 'cancelled'
export type CancelReason = 'user' | 'cancelAll' | 'sessionRevoked' | 'sessionExpired' | 'ioc'

export type SandboxOrder = {
  orderId: string
  clientOrderId: Hex
  wallet: WalletState
  market: Market
  side: 0 | 1
  timeInForce: 0 | 1 | 2
  price: bigint
  size: bigint
  filled: bigint
  /** Σ fill price × size, for the average price. */
  filledNotional: bigint
  /** Funds this order holds: quote for a buy (notional at the limit plus the highest fee), base for a sell. */
  held: bigint
  status: OrderStatus
  revision: number
  updatedAt: number
  /** Hash of the delegation that placed it: its expiry or revocation cancels the order. */
  delegationHash: Hex
}

export type FillRecord = {
  fillId: string
  seq: string
  clientOrderId: Hex
  market: string
  side: 0 | 1
  price: bigint
  size: bigint
  fee: bigint
  at: number
}

export type Balance = { total: bigint; held: bigint }

export type WalletState = {
  address: Address
  /** Lowercase address. */
  key: string
  balances: Map<string, Balance>
  /** Every order the wallet ever placed, by lowercase cloid. */
  orders: Map<string, SandboxOrder>
  /** First receipt per cloid: the Order idempotency rule. */
  receiptsByCloid: Map<string, Receipt>
  fills: FillRecord[]
  events: EventLog
}

export const eventTypes = ['OrderAccepted', 'OrderModified', 'OrderFilled', 'OrderCancelled', 'OrderRejected', 'SessionRevoked', 'SessionExpired'] as const
export type EventType = (typeof eventTypes)[number]

/** One event (PROTOCOL.md §7); amounts in `data` are decimal strings. */
export type SandboxEvent = {
  seq: string
  type: EventType
  wallet: Address
  at: number
  clientOrderId?: Hex
  orderId?: string
  data: Record<string, unknown>
}
