import fc from 'fast-check'
import { type Address, type Hex, bytesToHex, getAddress } from 'viem'
import type { AclAction } from '../../src/core/acl/actions.js'
import type {
  CancelAllMessage, CancelOrderMessage, DelegationMessage, ModifyOrderMessage, OperatorDomain, OrderMessage, ReadMessage,
  RevocationMessage, Side, TimeInForce,
} from '../../src/core/eip712/types.js'

/** Arbitraries over the whole range of each EIP-712 field type, wider than what buildRequest admits. */
export const hexBytes = (length: number): fc.Arbitrary<Hex> => fc.uint8Array({ minLength: length, maxLength: length }).map((b) => bytesToHex(b))
export const address: fc.Arbitrary<Address> = fc
  .tuple(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.boolean())
  .map(([bytes, checksummed]) => (checksummed ? getAddress(bytesToHex(bytes)) : bytesToHex(bytes)))
export const uint = (bits: number): fc.Arbitrary<bigint> =>
  fc.oneof(fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }), fc.constantFrom(0n, 1n, (1n << BigInt(bits)) - 1n))
export const text: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
)
const uint8 = fc.integer({ min: 0, max: 255 })

export const domain: fc.Arbitrary<OperatorDomain> = fc.record({
  name: text,
  version: fc.constant('1' as const),
  chainId: fc.integer({ min: 1, max: 2 ** 31 }),
  verifyingContract: address,
})

const bound = { delegation: hexBytes(32), wallet: address, nonce: uint(64), deadline: uint(64) }
export const order: fc.Arbitrary<OrderMessage> = fc.record({
  ...bound, market: text, side: uint8 as fc.Arbitrary<Side>, price: uint(256), size: uint(256),
  timeInForce: uint8 as fc.Arbitrary<TimeInForce>, clientOrderId: hexBytes(16),
})
export const modifyOrder: fc.Arbitrary<ModifyOrderMessage> = fc.record({ ...bound, market: text, clientOrderId: hexBytes(16), price: uint(256), size: uint(256) })
export const cancelOrder: fc.Arbitrary<CancelOrderMessage> = fc.record({ ...bound, market: text, clientOrderId: hexBytes(16) })
export const cancelAll: fc.Arbitrary<CancelAllMessage> = fc.record({ ...bound, market: text })
export const read: fc.Arbitrary<ReadMessage> = fc.record({ delegation: hexBytes(32), deadline: uint(64) })
export const revocation: fc.Arbitrary<RevocationMessage> = read
export const delegation: fc.Arbitrary<DelegationMessage> = fc.record({
  wallet: address,
  // The hasher takes any bytes; the 33-byte rule is the delegation shape check's.
  sessionPublicKey: fc.oneof(hexBytes(33), fc.uint8Array({ maxLength: 100 }).map((b) => bytesToHex(b))),
  aclScope: fc.array(text, { maxLength: 6 }) as fc.Arbitrary<AclAction[]>,
  expiry: uint(64),
  nonce: uint(64),
})
