import { getAddress, type Hex } from 'viem'
import { generatePrivateKey } from 'viem/accounts'
import { LocalWalletSigner } from '../signers/LocalWalletSigner.js'
import type { WalletSigner } from '../signers/WalletSigner.js'
import type { WalletRef } from '../signers/custodySigners.js'

/**
 * The wallet signers this process can ask for a Delegation. The API grants and
 * rotates sessions with it; the worker's `walletSignerFor` option takes
 * `registry.signerFor`, so both share one set when they run in one process (the
 * demo). Development keys live in memory only: a process that must sign for the
 * same wallets after a restart loads them from `DEV_WALLET_KEYS`. Custody
 * signers (Privy, `src/signers/custodySigners.ts`) plug in as `fallback`.
 */
export type WalletSignerRegistry = {
  /** The signer for a wallet (a row, or an address), or undefined when this process cannot sign for it. */
  signerFor(wallet: WalletRef | string): WalletSigner | undefined
  add(signer: WalletSigner): WalletSigner
  /** A new development wallet whose key stays in this process. */
  generateLocal(): WalletSigner
  /** Whether `generateLocal` is allowed (development signers). */
  readonly allowsLocal: boolean
}

export type WalletSignerRegistryOptions = {
  /** Development private keys to load at start (`DEV_WALLET_KEYS`). */
  localKeys?: readonly Hex[]
  /** Default true; false in production, where wallet keys never reach Deputy. */
  allowLocal?: boolean
  fallback?: (wallet: WalletRef) => WalletSigner | undefined
}

export function createWalletSignerRegistry(options: WalletSignerRegistryOptions = {}): WalletSignerRegistry {
  const signers = new Map<string, WalletSigner>()
  const allowsLocal = options.allowLocal ?? true
  const add = (signer: WalletSigner): WalletSigner => {
    signers.set(getAddress(signer.address), signer)
    return signer
  }
  for (const key of options.localKeys ?? []) add(LocalWalletSigner.fromPrivateKey(key))
  return {
    allowsLocal,
    signerFor(wallet) {
      const ref: WalletRef = typeof wallet === 'string' ? { address: wallet } : wallet
      let address: string
      try {
        address = getAddress(ref.address)
      } catch {
        return undefined
      }
      return signers.get(address) ?? options.fallback?.({ ...ref, address })
    },
    add,
    generateLocal() {
      if (!allowsLocal) throw new Error('development wallet keys are disabled in this process')
      return add(LocalWalletSigner.fromPrivateKey(generatePrivateKey()))
    },
  }
}

/** `DEV_WALLET_KEYS` as a list of keys. */
export function parseDevWalletKeys(value: string | undefined): Hex[] {
  return (value ?? '').split(',').map((key) => key.trim()).filter(Boolean) as Hex[]
}
