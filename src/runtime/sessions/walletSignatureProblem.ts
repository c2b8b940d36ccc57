import { secp256k1 } from '@noble/curves/secp256k1.js'
import type { Hex } from 'viem'
import { publicKeyToAddress } from 'viem/accounts'
import { recoverPublicKey } from '../../core/crypto/recoverPublicKey.js'
import { BaseError } from '../../core/errors/BaseError.js'

/**
 * Why the operator would refuse the wallet's signature over a Delegation
 * (SessionUnauthorized on every request), or undefined when it recovers to the
 * wallet. As strict as the operator: 65 bytes r‖s‖v, v 27/28, low s. A signer
 * set up for another account, or one that signs other bytes, is caught before
 * the session goes live.
 */
export function walletSignatureProblem(delegationHash: Hex, walletSignature: Hex, wallet: string): string | undefined {
  let signer: string
  try {
    const compressed = recoverPublicKey(delegationHash, walletSignature)
    signer = publicKeyToAddress(`0x${secp256k1.Point.fromHex(compressed.slice(2)).toHex(false)}`)
  } catch (error) {
    return `walletSignature: ${error instanceof BaseError ? error.shortMessage : 'unreadable'} (the operator would answer SessionUnauthorized)`
  }
  if (signer.toLowerCase() !== wallet.toLowerCase()) {
    return `walletSignature: recovers to ${signer}, not the wallet ${wallet} (the operator would answer SessionUnauthorized)`
  }
  return undefined
}
