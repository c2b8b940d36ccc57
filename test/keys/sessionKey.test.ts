import { Console } from 'node:console'
import { PassThrough } from 'node:stream'
import { inspect } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Hex, bytesToHex, hexToBytes, serializeSignature } from 'viem'
import { sign } from 'viem/accounts'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { SessionKey, generateSessionKey } from '../../src/keys/SessionKey.js'
import { BASE_TABLE_WINDOW } from '../../src/keys/wideBaseTable.js'

const HALF_N = secp256k1.Point.CURVE().n / 2n

describe('SessionKey', () => {
  it('holds a compressed SEC1 public key', () => {
    for (let i = 0; i < 20; i++) expect(generateSessionKey().publicKey).toMatch(/^0x0[23][0-9a-f]{64}$/)
  })

  it('round-trips through its exported secret, which is a copy', () => {
    const key = generateSessionKey()
    const secret = key.exportSecretForEncryption()
    const again = SessionKey.fromSecret(secret)
    secret.fill(0)
    expect(again.publicKey).toBe(key.publicKey)
    const digest = `0x${'ab'.repeat(32)}` as const
    expect(again.signDigest(digest)).toBe(key.signDigest(digest))
    expect(key.exportSecretForEncryption()).not.toEqual(new Uint8Array(32))
  })

  it.each([
    ['zero', new Uint8Array(32)],
    ['the curve order', hexToBytes('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141')],
    ['31 bytes', new Uint8Array(31).fill(1)],
    ['33 bytes', new Uint8Array(33).fill(1)],
  ])('refuses %s as a secret', (_, secret) => {
    expect(() => SessionKey.fromSecret(secret)).toThrow(expect.objectContaining({ code: 'KEYS.INVALID_SECRET' }))
  })

  it('signs digests exactly as viem does: RFC 6979, low s, v = 27/28', async () => {
    const key = generateSessionKey()
    const secret = bytesToHex(key.exportSecretForEncryption())
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), async (digestBytes) => {
      const digest = bytesToHex(digestBytes)
      const signature = key.signDigest(digest)
      expect(signature).toBe(serializeSignature(await sign({ hash: digest, privateKey: secret })))
      expect(BigInt(`0x${signature.slice(66, 130)}`) <= HALF_N).toBe(true)
      expect([27, 28]).toContain(Number.parseInt(signature.slice(130), 16))
    }), { numRuns: 100 })
  })

  it("signs the same bytes with noble's default base-point table as with Deputy's wider one", () => {
    const keys = Array.from({ length: 4 }, () => generateSessionKey())
    const digests = Array.from({ length: 8 }, (_, i) => bytesToHex(new Uint8Array(32).fill(i * 31 + 1)))
    const signAll = () => keys.flatMap((key) => digests.map((digest) => key.signDigest(digest)))
    const withWideTable = signAll()
    try {
      secp256k1.Point.BASE.precompute(6)
      expect(signAll()).toEqual(withWideTable)
    } finally {
      secp256k1.Point.BASE.precompute(BASE_TABLE_WINDOW)
    }
  })

  it('refuses a digest that is not 32 bytes', () => {
    const key = generateSessionKey()
    expect(() => key.signDigest(`0x${'ab'.repeat(31)}`)).toThrow(RangeError)
    expect(() => key.signDigest('0xzz' as Hex)).toThrow(RangeError)
  })
})

describe('SessionKey never prints its secret', () => {
  const key = generateSessionKey()
  const secretHex = bytesToHex(key.exportSecretForEncryption()).slice(2)

  const captureConsole = (...args: unknown[]): string => {
    const stream = new PassThrough()
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    new Console({ stdout: stream, stderr: stream }).log(...args)
    return Buffer.concat(chunks).toString('utf8')
  }

  const renderings: [string, () => string][] = [
    ['String()', () => String(key)],
    ['a template string', () => `${key}`],
    ['string concatenation', () => 'key: ' + key],
    ['util.inspect', () => inspect(key)],
    ['util.inspect showing hidden', () => inspect(key, { showHidden: true, depth: Infinity, getters: true })],
    ['util.inspect of a containing object', () => inspect({ session: { key } }, { depth: Infinity })],
    ['JSON.stringify', () => JSON.stringify(key)],
    ['JSON.stringify of a containing object', () => JSON.stringify({ session: { key } })],
    ['console.log', () => captureConsole(key)],
    ['console.log with %o', () => captureConsole('%o', key)],
    ['console.log with %s', () => captureConsole('%s', key)],
  ]
  it.each(renderings)('%s shows the public key only', (_, render) => {
    const text = render()
    expect(text.toLowerCase()).not.toContain(secretHex)
    expect(text).toContain(key.publicKey)
  })

  it('has no enumerable property holding the secret', () => {
    expect(Object.keys(key)).toEqual(['publicKey'])
  })
})
