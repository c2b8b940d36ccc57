import { describe, expect, it } from 'vitest'
import { type Hex, bytesToHex, hexToBytes } from 'viem'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { InvalidSignatureError, recoverPublicKey } from '../../src/core/crypto/recoverPublicKey.js'
import { generateSessionKey } from '../../src/keys/SessionKey.js'

const N = secp256k1.Point.CURVE().n
const digest: Hex = `0x${'5a'.repeat(32)}`

describe('recoverPublicKey', () => {
  const key = generateSessionKey()
  const signature = key.signDigest(digest)

  it('recovers the compressed public key of the signer, from hex or bytes', () => {
    expect(recoverPublicKey(digest, signature)).toBe(key.publicKey)
    expect(recoverPublicKey(hexToBytes(digest), hexToBytes(signature))).toBe(key.publicKey)
  })

  it('refuses the high-s twin of a valid signature, so each signature has one byte form', () => {
    const bytes = hexToBytes(signature)
    const s = BigInt(bytesToHex(bytes.subarray(32, 64)))
    bytes.set(hexToBytes(`0x${(N - s).toString(16).padStart(64, '0')}`), 32)
    bytes[64] = bytes[64] === 27 ? 28 : 27
    expect(() => recoverPublicKey(digest, bytesToHex(bytes))).toThrow(InvalidSignatureError)
  })

  it.each([
    ['v = 0/1', (b: Uint8Array) => { b[64] = b[64]! - 27 }],
    ['r = 0', (b: Uint8Array) => b.fill(0, 0, 32)],
    ['s = 0', (b: Uint8Array) => b.fill(0, 32, 64)],
    ['r = n', (b: Uint8Array) => b.set(hexToBytes(`0x${N.toString(16)}`), 0)],
  ])('refuses %s', (_, tamper) => {
    const bytes = hexToBytes(signature)
    tamper(bytes)
    expect(() => recoverPublicKey(digest, bytesToHex(bytes))).toThrow(expect.objectContaining({ code: 'CORE.INVALID_SIGNATURE' }))
  })

  it.each([
    ['a 64-byte signature', digest, signature.slice(0, 130)],
    ['a 66-byte signature', digest, `${signature}00`],
    ['a non-hex signature', digest, `0x${'zz'.repeat(65)}`],
    ['a 31-byte digest', digest.slice(0, 64), signature],
  ])('refuses %s', (_, d, s) => {
    expect(() => recoverPublicKey(d as Hex, s as Hex)).toThrow(InvalidSignatureError)
  })
})
