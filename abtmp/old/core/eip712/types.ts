import type { Address, Hex } from 'viem'
import type { AclAction, RequestFamily } from '../acl/actions.js'

/** The domain `GET /v1/info` returns (PROTOCOL.md §2). */
export type OperatorDomain = {
  name: string
  version: '1'
  chainId: number
  verifyingContract: Address
}

/** EIP-712 struct definitions, field for field as PROTOCOL.md §3–§6. */
export const eip712Types = {
  Delegation: [
    { name: 'wallet', type: 'address' },
    { name: 'sessionPublicKey', type: 'bytes' },
    { name: 'aclScope', type: 'string[]' },
    { name: 'expiry', type: 'uint64' },
    { name: 'nonce', type: 'uint64' },
  ],
  Order: [
    { name: 'delegation', type: 'bytes32' },
    { name: 'wallet', type: 'address' },
    { name: 'market', type: 'string' },
    { name: 'side', type: 'uint8' },
    { name: 'price', type: 'uint256' },
    { name: 'size', type: 'uint256' },
    { name: 'timeInForce', type: 'uint8' },
    { name: 'clientOrderId', type: 'bytes16' },
    { name: 'nonce', type: 'uint64' },
    { name: 'deadline', type: 'uint64' },
  ],
  ModifyOrder: [
    { name: 'delegation', type: 'bytes32' },
    { name: 'wallet', type: 'address' },
    { name: 'market', type: 'string' },
    { name: 'clientOrderId', type: 'bytes16' },
    { name: 'price', type: 'uint256' },
    { name: 'size', type: 'uint256' },
    { name: 'nonce', type: 'uint64' },
    { name: 'deadline', type: 'uint64' },
  ],
  CancelOrder: [
    { name: 'delegation', type: 'bytes32' },
    { name: 'wallet', type: 'address' },
    { name: 'market', type: 'string' },
    { name: 'clientOrderId', type: 'bytes16' },
    { name: 'nonce', type: 'uint64' },
    { name: 'deadline', type: 'uint64' },
  ],
  CancelAll: [
    { name: 'delegation', type: 'bytes32' },
    { name: 'wallet', type: 'address' },
    { name: 'market', type: 'string' },
    { name: 'nonce', type: 'uint64' },
    { name: 'deadline', type: 'uint64' },
  ],
  Read: [
    { name: 'delegation', type: 'bytes32' },
    { name: 'deadline', type: 'uint64' },
  ],
  Revocation: [
    { name: 'delegation', type: 'bytes32' },
    { name: 'deadline', type: 'uint64' },
  ],
} as const

export type PrimaryType = keyof typeof eip712Types

/** `types` for one primary type, as viem / ethers / Privy expect them. */
export function typesFor<T extends PrimaryType>(primaryType: T): Pick<typeof eip712Types, T> {
  return { [primaryType]: eip712Types[primaryType] } as Pick<typeof eip712Types, T>
}

export const Side = { buy: 0, sell: 1 } as const
export type Side = (typeof Side)[keyof typeof Side]
export const TimeInForce = { GTC: 0, IOC: 1, POST_ONLY: 2 } as const
export type TimeInForce = (typeof TimeInForce)[keyof typeof TimeInForce]

export type DelegationMessage = {
  wallet: Address
  /** 33-byte compressed SEC1 secp256k1 public key. */
  sessionPublicKey: Hex
  aclScope: readonly AclAction[]
  /** Unix seconds. */
  expiry: bigint
  nonce: bigint
}

type Bound = {
  /** The delegation hash this request is bound to. */
  delegation: Hex
  wallet: Address
  nonce: bigint
  /** Unix milliseconds. */
  deadline: bigint
}

export type OrderMessage = Bound & {
  market: string
  side: Side
  price: bigint
  size: bigint
  timeInForce: TimeInForce
  clientOrderId: Hex
}
export type ModifyOrderMessage = Bound & { market: string; clientOrderId: Hex; price: bigint; size: bigint }
export type CancelOrderMessage = Bound & { market: string; clientOrderId: Hex }
export type CancelAllMessage = Bound & { market: string }

export type RequestMessages = {
  Order: OrderMessage
  ModifyOrder: ModifyOrderMessage
  CancelOrder: CancelOrderMessage
  CancelAll: CancelAllMessage
}

/** A request of one family, ready to hash and sign. */
export type VenueRequest<F extends RequestFamily = RequestFamily> = {
  [K in F]: { family: K; message: RequestMessages[K] }
}[F]

export type ReadMessage = { delegation: Hex; deadline: bigint }
export type RevocationMessage = { delegation: Hex; deadline: bigint }
