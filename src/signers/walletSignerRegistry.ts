import type { Address, Hex } from 'viem'
import { getAddress } from 'viem'
import { LocalWalletSigner } from './LocalWalletSigner.js'
import type { WalletSigner } from './WalletSigner.js'
import { type WalletSignerEnv, createWalletSigner } from './createWalletSigner.js'

/** What the registry needs to know of a wallet to find who can sign for it. */
export type WalletRef = { address: string; custodyWalletId?: string | null }

/**
 * Finds the signer of a wallet's Delegations. With `WALLET_SIGNER=privy` it is
 * the wallet's Privy embedded wallet (its custody wallet id); with `local`, a
 * development key registered in this process (the demo, tests). Answers
 * undefined when nobody can sign: that wallet's work waits for a delegation.
 */
export function createWalletSignerRegistry(env: WalletSignerEnv) {
  const local = new Map<string, WalletSigner>()
  const privy = new Map<string, WalletSigner>()
  return {
    kind: env.walletSigner,
    /** Development only: holds a wallet key in process. */
    registerLocalKey(privateKey: Hex): LocalWalletSigner {
      const signer = LocalWalletSigner.fromPrivateKey(privateKey)
      local.set(signer.address, signer)
      return signer
    },
    registerSigner(signer: WalletSigner): void {
      local.set(getAddress(signer.address), signer)
    },
    for(wallet: WalletRef): WalletSigner | undefined {
      const address = getAddress(wallet.address) as Address
      const registered = local.get(address)
      if (registered) return registered
      if (env.walletSigner !== 'privy' || !wallet.custodyWalletId) return undefined
      const key = `${wallet.custodyWalletId}:${address}`
      let signer = privy.get(key)
      if (!signer) {
        signer = createWalletSigner({ walletSigner: 'privy', api: env.api, authorizationKeys: env.authorizationKeys, walletId: wallet.custodyWalletId, address })
        privy.set(key, signer)
      }
      return signer
    },
  }
}
export type WalletSignerRegistry = ReturnType<typeof createWalletSignerRegistry>
