import { type Address, getAddress, isAddress } from 'viem'

/** The part of Privy's user object (GET /v1/users/{id}) this reads. */
export type PrivyUserLike = {
  id: string
  linked_accounts: readonly unknown[]
}

export type DelegatedWallet = {
  /** Privy wallet id, for `/v1/wallets/{id}/rpc`. */
  walletId: string
  address: Address
}

/**
 * The user's Ethereum embedded wallets on which they granted the app's session
 * signer: linked accounts with `type: "wallet"` and `delegated: true`. Entries
 * without a wallet id (legacy on-device wallets) cannot be used through the
 * wallet API and are left out, as are malformed entries.
 */
export function listDelegatedWallets(user: PrivyUserLike): DelegatedWallet[] {
  const wallets: DelegatedWallet[] = []
  for (const account of user.linked_accounts) {
    if (typeof account !== 'object' || account === null) continue
    const entry = account as Record<string, unknown>
    if (entry.type !== 'wallet' || entry.delegated !== true) continue
    if (entry.chain_type !== undefined && entry.chain_type !== 'ethereum') continue
    if (typeof entry.id !== 'string' || entry.id.length === 0) continue
    if (typeof entry.address !== 'string' || !isAddress(entry.address, { strict: false })) continue
    wallets.push({ walletId: entry.id, address: getAddress(entry.address) })
  }
  return wallets
}
