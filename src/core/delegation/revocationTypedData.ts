import { type OperatorDomain, type RevocationMessage, typesFor } from '../eip712/types.js'

/** The Revocation (PROTOCOL.md §5) as typed data, for the wallet signer to sign. */
export function revocationTypedData(domain: OperatorDomain, message: RevocationMessage) {
  return { domain, types: typesFor('Revocation'), primaryType: 'Revocation' as const, message }
}
export type RevocationTypedData = ReturnType<typeof revocationTypedData>
