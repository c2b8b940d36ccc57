import { type Hex, encodeAbiParameters } from 'viem'
import type { DelegationMessage } from '../eip712/types.js'
import { delegatedPayloadAbi } from './payloadAbi.js'
import { assertDelegationShape } from './assertDelegationShape.js'

export type SignedDelegation = DelegationMessage & { walletSignature: Hex }

/** The delegated payload bytes attached to every request (PROTOCOL.md §3). */
export function encodeDelegatedPayload(delegation: SignedDelegation): Hex {
  assertDelegationShape(delegation)
  return encodeAbiParameters(delegatedPayloadAbi, [
    delegation.wallet,
    delegation.sessionPublicKey,
    [...delegation.aclScope],
    delegation.expiry,
    delegation.nonce,
    delegation.walletSignature,
  ])
}
