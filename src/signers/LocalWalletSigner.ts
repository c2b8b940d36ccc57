import type { Address, Hex, LocalAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { DelegationTypedData } from '../core/delegation/delegationTypedData.js'
import type { RevocationTypedData } from '../core/delegation/revocationTypedData.js'
import type { WalletSigner } from './WalletSigner.js'

/** Development signer on a viem local account. The private key never leaves the account object. */
export class LocalWalletSigner implements WalletSigner {
  readonly kind = 'local'
  readonly address: Address
  readonly #account: LocalAccount

  constructor(account: LocalAccount) {
    this.#account = account
    this.address = account.address
  }

  static fromPrivateKey(privateKey: Hex): LocalWalletSigner {
    return new LocalWalletSigner(privateKeyToAccount(privateKey))
  }

  signDelegation(typedData: DelegationTypedData): Promise<Hex> {
    return this.#account.signTypedData(typedData)
  }

  signRevocation(typedData: RevocationTypedData): Promise<Hex> {
    return this.#account.signTypedData(typedData)
  }

  toString(): string {
    return `LocalWalletSigner(${this.address})`
  }
  toJSON(): { kind: string; address: Address } {
    return { kind: this.kind, address: this.address }
  }
}
