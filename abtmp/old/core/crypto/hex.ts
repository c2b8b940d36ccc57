import type { Hex } from 'viem'
import { bytesToHex as bytesToBareHex } from '@noble/hashes/utils.js'

/** Nibble value of each ASCII code, -1 for anything that is not a hex digit. */
const nibbles = new Int8Array(128).fill(-1)
for (let i = 0; i < 10; i++) nibbles[48 + i] = i
for (let i = 0; i < 6; i++) {
  nibbles[65 + i] = 10 + i
  nibbles[97 + i] = 10 + i
}

/**
 * Decodes `0x`-hex of exactly `byteLength` bytes into `target` at `offset`,
 * without an intermediate array (the EIP-712 encoder writes straight into its
 * word buffer). Returns false, having possibly written part of it, when `hex`
 * is not such a string.
 */
export function writeHex(target: Uint8Array, offset: number, hex: unknown, byteLength: number): boolean {
  if (typeof hex !== 'string' || hex.length !== 2 + 2 * byteLength || hex.charCodeAt(0) !== 48 || (hex.charCodeAt(1) | 32) !== 120) return false
  for (let i = 0, c = 2; i < byteLength; i++, c += 2) {
    const hi = nibbles[hex.charCodeAt(c)] ?? -1
    const lo = nibbles[hex.charCodeAt(c + 1)] ?? -1
    if (hi < 0 || lo < 0) return false
    target[offset + i] = (hi << 4) | lo
  }
  return true
}

/** Bytes of `0x`-hex of any even length, or undefined when it is not one. */
export function hexToBytes(hex: unknown): Uint8Array | undefined {
  if (typeof hex !== 'string' || hex.length < 2 || hex.length % 2 !== 0) return undefined
  const bytes = new Uint8Array((hex.length - 2) / 2)
  return writeHex(bytes, 0, hex, bytes.length) ? bytes : undefined
}

export function bytesToHex(bytes: Uint8Array): Hex {
  return `0x${bytesToBareHex(bytes)}`
}
