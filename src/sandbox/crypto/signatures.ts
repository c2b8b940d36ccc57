import type { Hex } from 'viem'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { bytesToNumberBE } from '@noble/curves/utils.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { bytesToHex, hexToBytes } from '../../core/crypto/hex.js'
import { recoverPublicKeyBytes } from '../../core/crypto/recoverPublicKey.js'
import '../../keys/wideBaseTable.js'

const { Point } = secp256k1
const N = Point.Fn.ORDER
const HALF_N = N >> 1n

/** A signature in the one byte form the protocol accepts: 65 bytes r‖s‖v, v = 27/28, low s. */
export type SignatureParts = { bytes: Uint8Array; r: bigint; s: bigint; parity: 0 | 1 }

/**
 * Parses a strict signature; undefined for anything `recoverPublicKeyBytes`
 * would refuse, so the fast path and the recovery path accept the same set.
 */
export function parseSignature(hex: string): SignatureParts | undefined {
  const bytes = hexToBytes(hex)
  if (!bytes || bytes.length !== 65) return undefined
  const v = bytes[64]
  if (v !== 27 && v !== 28) return undefined
  const r = bytesToNumberBE(bytes.subarray(0, 32))
  const s = bytesToNumberBE(bytes.subarray(32, 64))
  if (r === 0n || r >= N || s === 0n || s > HALF_N) return undefined
  return { bytes, r, s, parity: v === 27 ? 0 : 1 }
}

/** The compressed public key (lowercase hex) that made the signature, or undefined. */
export function recoverCompressed(digest: Uint8Array, signature: Uint8Array): Hex | undefined {
  try {
    return bytesToHex(recoverPublicKeyBytes(digest, signature))
  } catch {
    return undefined
  }
}

/** Whether 33-byte compressed hex names a point on secp256k1 (a prefix and length check does not tell). */
export function isCurvePoint(compressed: Hex): boolean {
  try {
    Point.fromHex(compressed.slice(2))
    return true
  } catch {
    return false
  }
}

/** The address (lowercase) of a compressed public key. */
export function addressOf(compressed: Hex): string {
  const uncompressed = Point.fromHex(compressed.slice(2)).toBytes(false)
  return bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12))
}

/** The EOA address (lowercase) that made the signature, or undefined. */
export function recoverAddress(digest: Uint8Array, signature: Uint8Array): string | undefined {
  const key = recoverCompressed(digest, signature)
  return key === undefined ? undefined : addressOf(key)
}
