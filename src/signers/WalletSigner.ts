import type { Address, Hex } from 'viem'
import type { DelegationTypedData } from '../core/delegation/delegationTypedData.js'
import type { RevocationTypedData } from '../core/delegation/revocationTypedData.js'

/**
 * The one port through which Deputy obtains a wallet's signature. The wallet
 * signs two things only: the Delegation, and the Revocation of a delegation
 * whose session key is in doubt (quarantined after SignerMismatch), which that
 * key cannot sign. Implementations: `local` (a viem account, development and
 * tests) and `privy` (custody API).
 */
export interface WalletSigner {
  /** Which signer this is, for logs and audit (`local`, `privy`). */
  readonly kind: string
  /** The wallet address the signer signs for. */
  readonly address: Address
  /** 65-byte r‖s‖v EIP-712 signature over the Delegation typed data. */
  signDelegation(typedData: DelegationTypedData): Promise<Hex>
  /** 65-byte r‖s‖v EIP-712 signature over a Revocation (PROTOCOL.md §5) of one of the wallet's delegations. */
  signRevocation(typedData: RevocationTypedData): Promise<Hex>
}
