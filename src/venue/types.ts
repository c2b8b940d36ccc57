import type { Address, Hex } from 'viem'
import type { RequestFamily } from '../core/acl/actions.js'
import type { OperatorDomain } from '../core/eip712/types.js'

/** `GET /v1/info` (PROTOCOL.md §2). */
export type VenueInfo = OperatorDomain & { serverTime: number; maxDeadlineMs: number }

export type VenueMarket = { market: string; base: string; quote: string; tickSize: string; lotSize: string }
export type VenueTicker = { bid: string; ask: string; mark: string }

/** The 200 answer to `POST /v1/requests` (PROTOCOL.md §5). */
export type Receipt = {
  requestId: string
  family: RequestFamily
  wallet: Address
  clientOrderId?: Hex
  orderId?: string
  status: 'accepted'
  duplicate: boolean
  seq: string
  acceptedAt: number
  cancelled?: Hex[]
}

export type VenueOrderStatus = 'open' | 'partiallyFilled' | 'filled' | 'cancelled'

/** An order as the operator reports it on authenticated reads. */
export type VenueOrder = {
  clientOrderId: Hex
  orderId: string
  market: string
  /** 0 buy, 1 sell; null when the operator's value is neither (PROTOCOL.md does not fix how reads encode it). */
  side: 0 | 1 | null
  price: string
  size: string
  filled: string
  averagePrice: string | null
  status: VenueOrderStatus
  revision: number
  updatedAt: number
}

export type VenueFill = {
  fillId: string
  seq: string
  clientOrderId: Hex
  market: string
  /** As an order's `side`. */
  side: 0 | 1 | null
  price: string
  size: string
  fee: string
  at: number
}

export type VenueBalance = { asset: string; total: string; available: string }

export type VenueEventType =
  | 'OrderAccepted'
  | 'OrderModified'
  | 'OrderFilled'
  | 'OrderCancelled'
  | 'OrderRejected'
  | 'SessionRevoked'
  | 'SessionExpired'

/** One event of a wallet's stream (PROTOCOL.md §7). */
export type VenueEvent = {
  seq: string
  type: VenueEventType
  wallet: Address
  at: number
  clientOrderId?: Hex
  orderId?: string
  data: Record<string, unknown>
}

/** Headers that authenticate a read (PROTOCOL.md §6), produced by the session key's owner. */
export type ReadAuth = () => Promise<Record<string, string>> | Record<string, string>
