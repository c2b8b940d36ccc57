import fc from 'fast-check'
import { keccakP, keccak_256 } from '@noble/hashes/sha3.js'
import { describe, expect, it } from 'vitest'
import { keccak256, keccak256Into } from '../../src/core/crypto/keccak256.js'
import { keccakF1600 } from '../../src/core/crypto/keccakF1600.js'

describe('keccakF1600 (unrolled permutation)', () => {
  it('equals noble keccakP on random states', () => {
    fc.assert(fc.property(fc.uint32Array({ minLength: 50, maxLength: 50 }), (words) => {
      const ours = Uint32Array.from(words)
      const noble = Uint32Array.from(words)
      keccakF1600(ours)
      keccakP(noble)
      expect(ours).toEqual(noble)
    }), { numRuns: 500 })
  })

  it('equals noble keccakP on the zero state, applied repeatedly', () => {
    const ours = new Uint32Array(50)
    const noble = new Uint32Array(50)
    for (let i = 0; i < 10; i++) {
      keccakF1600(ours)
      keccakP(noble)
      expect(ours).toEqual(noble)
    }
  })
})

describe('keccak256 (reused-state sponge)', () => {
  it('gives the known hash of the empty string', () => {
    expect(Buffer.from(keccak256(new Uint8Array())).toString('hex')).toBe('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
  })

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
