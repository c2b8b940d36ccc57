import type { Address } from 'viem'
import { getAddress } from 'viem'
import type { WalletSigner } from './WalletSigner.js'
import { type WalletSignerEnv, createWalletSigner } from './createWalletSigner.js'

/** What is needed of a wallet to find who can sign for it. */
export type WalletRef = { address: string; custodyWalletId?: string | null }

/**
 * A wallet whose stored custody wallet id cannot be a Privy wallet id: every Delegation (or
 * Revocation) it is asked for fails with the reason, so that wallet's grants fail (and back off) on their own
 * instead of the lookup throwing in session maintenance, which stopped the run for every wallet.
 */
function unusableSigner(address: Address, reason: unknown): WalletSigner {
  return { kind: 'privy', address, signDelegation: () => Promise.reject(reason), signRevocation: () => Promise.reject(reason) }
}

/**
 * Signers at the custody service (`WALLET_SIGNER=privy`): a wallet registered
 * with its Privy wallet id (`custody_wallet_id`) is signed for by that Privy
 * embedded wallet through Deputy's session signer. Answers undefined for a
 * wallet without one, or when custody is not configured (`WALLET_SIGNER=local`).
 * Never throws: a custody wallet id Privy cannot have gives a signer that fails
 * each grant with that reason. Development keys live in
 * `src/runtime/walletSignerRegistry.ts`, which falls back to this.
 */
export function createCustodySigners(env: WalletSignerEnv) {
  const signers = new Map<string, WalletSigner>()
  return {
    kind: env.walletSigner,
    for(wallet: WalletRef): WalletSigner | undefined {
      if (env.walletSigner !== 'privy' || !wallet.custodyWalletId) return undefined
      const address = getAddress(wallet.address) as Address
      const key = `${wallet.custodyWalletId}:${address}`
      let signer = signers.get(key)
      if (!signer) {
        try {
          signer = createWalletSigner({ walletSigner: 'privy', api: env.api, authorizationKeys: env.authorizationKeys, walletId: wallet.custodyWalletId, address })
        } catch (error) {
          signer = unusableSigner(address, error)
        }
        signers.set(key, signer)
      }
      return signer
    },
  }
}
export type CustodySigners = ReturnType<typeof createCustodySigners>
