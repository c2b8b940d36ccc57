import fc from 'fast-check'
import { type Address, type Hex, bytesToHex } from 'viem'
import type { AclAction } from '../../../src/core/acl/actions.js'
import type { SignedDelegation } from '../../../src/core/delegation/encodeDelegatedPayload.js'

/** Written out from PROTOCOL.md §3, not imported, so the tests check the code against the spec. */
export const CANONICAL_FAMILIES = ['Order', 'ModifyOrder', 'CancelOrder', 'CancelAll'] as const

export const UINT64_MAX = 2n ** 64n - 1n

export const hexBytes = (length: number): fc.Arbitrary<Hex> =>
  fc.uint8Array({ minLength: length, maxLength: length }).map((bytes) => bytesToHex(bytes))

export const addressArb: fc.Arbitrary<Address> = hexBytes(20) as fc.Arbitrary<Address>

export const compressedKeyArb: fc.Arbitrary<Hex> = fc
  .tuple(fc.constantFrom('02', '03'), hexBytes(32))
  .map(([prefix, rest]) => `0x${prefix}${rest.slice(2)}` as Hex)

/** Every valid scope: a non-empty subset of the families in canonical order, or ["Unrestricted"]. */
export const validScopeArb: fc.Arbitrary<AclAction[]> = fc.oneof(
  fc.subarray([...CANONICAL_FAMILIES], { minLength: 1 }),
  fc.constant<AclAction[]>(['Unrestricted']),
)

export const uint64Arb = fc.bigInt({ min: 0n, max: UINT64_MAX })

export const signedDelegationArb: fc.Arbitrary<SignedDelegation> = fc.record({
  wallet: addressArb,
  sessionPublicKey: compressedKeyArb,
  aclScope: validScopeArb,
  expiry: uint64Arb,
  nonce: uint64Arb,
  walletSignature: hexBytes(65),
})

/** All 15 canonical non-empty subsets plus ["Unrestricted"]. */
export function allValidScopes(): AclAction[][] {
  const scopes: AclAction[][] = []
  for (let mask = 1; mask < 16; mask++) scopes.push(CANONICAL_FAMILIES.filter((_, i) => mask & (1 << i)))
  scopes.push(['Unrestricted'])
  return scopes
}

/** Runs `fn` and returns what it threw; fails the test when it returns normally. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to throw')
}
