import { type Hex, hashTypedData } from 'viem'
import { type DelegationMessage, type OperatorDomain, typesFor } from '../eip712/types.js'

/** The EIP-712 digest of a Delegation: what the wallet signs and what every request binds. */
export function delegationHash(domain: OperatorDomain, delegation: DelegationMessage): Hex {
  return hashTypedData({ domain, types: typesFor('Delegation'), primaryType: 'Delegation', message: delegation })
}
