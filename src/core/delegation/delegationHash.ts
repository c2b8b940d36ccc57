import type { Hex } from 'viem'
import { hashDelegation } from '../eip712/hashDelegation.js'
import type { DelegationMessage, OperatorDomain } from '../eip712/types.js'

/**
 * The EIP-712 digest of a Delegation: what the wallet signs and what every
 * request binds. One hasher for every struct (`hashTypedStruct`); the tests
 * hold it equal to viem's and ethers' `hashTypedData`.
 */
export function delegationHash(domain: OperatorDomain, delegation: DelegationMessage): Hex {
  return hashDelegation(domain, delegation)
}
