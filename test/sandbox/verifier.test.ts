import { secp256k1 } from '@noble/curves/secp256k1.js'
import fc from 'fast-check'
import { type Hex, keccak256, toHex } from 'viem'
import { describe, expect, it } from 'vitest'
import { SessionKeyVerifier } from '../../src/sandbox/crypto/SessionKeyVerifier.js'
import { account, compressedKey } from './helpers.js'

const N = secp256k1.Point.Fn.ORDER
const key = account('verifier:key')
const other = account('verifier:other')
const publicKey = compressedKey(key)

function hexToBytes(hex: Hex): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'))
}
function withV(signature: Hex, v: number): Hex {
  return `${signature.slice(0, 130)}${v.toString(16).padStart(2, '0')}` as Hex
}
/** The same (r, s) with s → n − s and the parity flipped: valid ECDSA, but the protocol's strict form refuses it. */
function highS(signature: Hex): Hex {
  const s = BigInt(`0x${signature.slice(66, 130)}`)
  const v = Number.parseInt(signature.slice(130), 16)
  return `${signature.slice(0, 66)}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` as Hex
}

describe('SessionKeyVerifier: the table path answers exactly as recovery does', () => {
  it('agrees on valid, foreign, flipped-v, high-s, out-of-range and garbage signatures', async () => {
    const recovery = new SessionKeyVerifier(publicKey, 0)
    const table = new SessionKeyVerifier(publicKey, 1)
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.nat(6), fc.uint8Array({ minLength: 65, maxLength: 65 }), async (text, variant, noise) => {
        const digest = keccak256(toHex(text))
        const good = await key.sign({ hash: digest })
        const candidates: Hex[] = [
          good,
          await other.sign({ hash: digest }),
          withV(good, Number.parseInt(good.slice(130), 16) === 27 ? 28 : 27),
          highS(good),
          withV(good, 0),
          `0x${'ff'.repeat(32)}${good.slice(66)}` as Hex,
          toHex(noise),
        ]
        const signature = candidates[variant]!
        const expected = variant === 0
        const bytes = hexToBytes(digest)
        expect(recovery.verify(bytes, signature)).toBe(expected)
        expect(table.verify(bytes, signature)).toBe(expected)
      }),
      { numRuns: 60 },
    )
  })

  it('a signature over another digest does not verify', async () => {
    const table = new SessionKeyVerifier(publicKey, 1)
    const signature = await key.sign({ hash: keccak256(toHex('a')) })
    expect(table.verify(hexToBytes(keccak256(toHex('a'))), signature)).toBe(true)
    expect(table.verify(hexToBytes(keccak256(toHex('b'))), signature)).toBe(false)
  })
})
