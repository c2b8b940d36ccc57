import { type DelegationMessage, type OperatorDomain, typesFor } from '../eip712/types.js'

/** The typed data a wallet signer is asked to sign. */
export function delegationTypedData(domain: OperatorDomain, message: DelegationMessage) {
  return { domain, types: typesFor('Delegation'), primaryType: 'Delegation' as const, message }
}
export type DelegationTypedData = ReturnType<typeof delegationTypedData>
