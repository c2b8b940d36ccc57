import type { Address, Hex } from 'viem'
import type { DelegationTypedData } from '../core/delegation/delegationTypedData.js'

/**
 * The one port through which Deputy obtains a wallet's signature. The wallet
 * signs one thing only: the Delegation. Implementations: `local` (a viem
 * account, development and tests) and `privy` (custody API).
 */
export interface WalletSigner {
  /** Which signer this is, for logs and audit (`local`, `privy`). */
  readonly kind: string
  /** The wallet address the signer signs for. */
  readonly address: Address
  /** 65-byte r‖s‖v EIP-712 signature over the Delegation typed data. */
  signDelegation(typedData: DelegationTypedData): Promise<Hex>
}
