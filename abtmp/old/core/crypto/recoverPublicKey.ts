import type { Hex } from 'viem'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { BaseError } from '../errors/BaseError.js'
import { bytesToHex, hexToBytes } from './hex.js'

export class InvalidSignatureError extends BaseError {
  override name = 'InvalidSignatureError'
  constructor(reason: string, cause?: unknown) {
    super(`invalid signature: ${reason}`, {
      code: 'CORE.INVALID_SIGNATURE',
      hint: 'a signature is 65 bytes r‖s‖v over a 32-byte EIP-712 digest, with low s and v = 27 or 28',
      cause,
    })
  }
}

/**
 * The 33-byte compressed public key that made `signature` (65 bytes r‖s‖v,
 * v = 27/28) over a 32-byte `digest`. Strict on purpose: high-s and v = 0/1
 * forms are refused, so one signature has exactly one byte form and replay
 * checks on signature bytes hold. Throws InvalidSignatureError.
 */
export function recoverPublicKeyBytes(digest: Uint8Array, signature: Uint8Array): Uint8Array {
  if (digest.length !== 32) throw new InvalidSignatureError('the digest must be 32 bytes')
  if (signature.length !== 65) throw new InvalidSignatureError('must be 65 bytes r‖s‖v')
  const v = signature[64]!
  if (v !== 27 && v !== 28) throw new InvalidSignatureError('v must be 27 or 28')
  let parsed
  try {
    parsed = secp256k1.Signature.fromBytes(signature.subarray(0, 64), 'compact').addRecoveryBit(v - 27)
  } catch (cause) {
    throw new InvalidSignatureError('r or s is out of range', cause)
  }
  if (parsed.hasHighS()) throw new InvalidSignatureError('s must be in the lower half of the curve order')
  try {
    return parsed.recoverPublicKey(digest).toBytes(true)
  } catch (cause) {
    throw new InvalidSignatureError('no public key recovers from it', cause)
  }
}

export function recoverPublicKey(digest: Hex | Uint8Array, signature: Hex | Uint8Array): Hex {
  const digestBytes = typeof digest === 'string' ? hexToBytes(digest) : digest
  const signatureBytes = typeof signature === 'string' ? hexToBytes(signature) : signature
  if (!digestBytes) throw new InvalidSignatureError('the digest must be 0x-hex')
  if (!signatureBytes) throw new InvalidSignatureError('must be 0x-hex')
  return bytesToHex(recoverPublicKeyBytes(digestBytes, signatureBytes))
}
