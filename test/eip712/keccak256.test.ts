import fc from 'fast-check'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { describe, expect, it } from 'vitest'
import { keccak256, keccak256Into } from '../../src/core/crypto/keccak256.js'

describe('keccak256 (reused-state sponge)', () => {
  it.each([0, 1, 31, 32, 66, 135, 136, 137, 271, 272, 273, 352, 1000])('equals noble keccak_256 for %i bytes', (length) => {
    const data = Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff)
    expect(keccak256(data)).toEqual(keccak_256(data))
  })

  it('equals noble keccak_256 for random data, and writes only its 32 bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(40), (data, offset) => {
      const target = new Uint8Array(offset + 40).fill(0xee)
      keccak256Into(data, target, offset)
      expect(target.subarray(offset, offset + 32)).toEqual(keccak_256(data))
      expect(target.subarray(0, offset).every((b) => b === 0xee)).toBe(true)
      expect(target.subarray(offset + 32).every((b) => b === 0xee)).toBe(true)
    }), { numRuns: 300 })
  })
})
