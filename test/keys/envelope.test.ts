import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { bytesToHex } from 'viem'
import { type Keyring, createKeyring } from '../../src/keys/Keyring.js'
import { decryptSecret } from '../../src/keys/decryptSecret.js'
import { encryptSecret } from '../../src/keys/encryptSecret.js'
import { DecryptFailedError } from '../../src/keys/errors.js'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { rewrapSecret } from '../../src/keys/rewrapSecret.js'
import { sealedKeyId } from '../../src/keys/sealedSecret.js'
import { SessionKey, generateSessionKey } from '../../src/keys/SessionKey.js'
import { sealSessionKey, unsealSessionKey } from '../../src/runtime/sessions/sealedSessionKey.js'

const k1 = generateMasterKey('k1')
const k2 = generateMasterKey('k2')
const aad = 'session:6f1c2d3e'
const secret = generateSessionKey().exportSecretForEncryption()

const code = (c: string) => expect.objectContaining({ code: c })
const masterMaterial = (entry: string) => entry.slice(entry.indexOf(':') + 1)

/** Flips one byte of one base64url part of a sealed string. */
function tamperPart(sealed: string, part: number, byte: number): string {
  const parts = sealed.split('.')
  const bytes = Buffer.from(parts[part]!, 'base64url')
  bytes[byte]! ^= 0x01
  parts[part] = bytes.toString('base64url')
  return parts.join('.')
}

describe('envelope encryption of session secrets', () => {
  const keyring = createKeyring(k1)

  it('round-trips, in a self-describing string naming format and master key', () => {
    const sealed = encryptSecret(keyring, secret, aad)
    expect(sealed).toMatch(/^dk1\.k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    expect(sealedKeyId(sealed)).toBe('k1')
    expect(decryptSecret(keyring, sealed, aad)).toEqual(secret)
  })

  it('uses a fresh data key and IVs each time', () => {
    const a = encryptSecret(keyring, secret, aad).split('.')
    const b = encryptSecret(keyring, secret, aad).split('.')
    expect(a[2]).not.toBe(b[2])
    expect(a[3]).not.toBe(b[3])
  })

  it('fails on a change to any byte of the wrapped key or of the ciphertext (IV, body, tag), naming which part failed', () => {
    const sealed = encryptSecret(keyring, secret, aad)
    for (const [part, failed] of [[2, 'wrapped data key'], [3, 'secret']] as const) {
      const length = Buffer.from(sealed.split('.')[part]!, 'base64url').length
      for (let byte = 0; byte < length; byte++) {
        expect(() => decryptSecret(keyring, tamperPart(sealed, part, byte), aad), `part ${part} byte ${byte}`).toThrow(expect.objectContaining({ code: 'KEYS.DECRYPT_FAILED', part: failed }))
      }
    }
  })

  it.each([
    ['another format version', (s: string) => s.replace(/^dk1\./, 'dk2.')],
    ['a truncated ciphertext', (s: string) => s.slice(0, -30)],
    ['a truncated wrapped key', (s: string) => { const p = s.split('.'); p[2] = p[2]!.slice(0, 20); return p.join('.') }],
    ['parts swapped', (s: string) => { const p = s.split('.'); return [p[0], p[1], p[3], p[2]].join('.') }],
    ['a missing part', (s: string) => s.split('.').slice(0, 3).join('.')],
    ['an extra part', (s: string) => `${s}.AAAA`],
    ['not base64url', (s: string) => `${s}*`],
    ['an empty string', () => ''],
  ])('fails with DECRYPT_FAILED on %s', (_, tamper) => {
    expect(() => decryptSecret(keyring, tamper(encryptSecret(keyring, secret, aad)), aad)).toThrow(code('KEYS.DECRYPT_FAILED'))
  })

  it('fails for another row (wrong additional authenticated data), at its wrapped data key', () => {
    const sealed = encryptSecret(keyring, secret, aad)
    expect(() => decryptSecret(keyring, sealed, 'session:other')).toThrow(expect.objectContaining({ code: 'KEYS.DECRYPT_FAILED', part: 'wrapped data key' }))
    expect(() => rewrapSecret(keyring, sealed, 'session:other')).toThrow(code('KEYS.DECRYPT_FAILED'))
  })

  it('refuses an empty additional authenticated data', () => {
    expect(() => encryptSecret(keyring, secret, '')).toThrow(RangeError)
  })

  it('fails with UNKNOWN_MASTER_KEY for a key id the keyring does not hold', () => {
    const sealed = encryptSecret(keyring, secret, aad)
    expect(() => decryptSecret(createKeyring(k2), sealed, aad)).toThrow(code('KEYS.UNKNOWN_MASTER_KEY'))
    expect(() => decryptSecret(keyring, sealed.replace('.k1.', '.k9.'), aad)).toThrow(code('KEYS.UNKNOWN_MASTER_KEY'))
  })

  it('fails with DECRYPT_FAILED under another key of the same id, or when relabelled to another held key', () => {
    const sealed = encryptSecret(keyring, secret, aad)
    expect(() => decryptSecret(createKeyring(generateMasterKey('k1')), sealed, aad)).toThrow(expect.objectContaining({ code: 'KEYS.DECRYPT_FAILED', part: 'wrapped data key' }))
    expect(() => decryptSecret(createKeyring(`${k2},${k1}`), sealed.replace('.k1.', '.k2.'), aad)).toThrow(code('KEYS.DECRYPT_FAILED'))
  })
})

describe('master key rotation', () => {
  it('decrypts under a retired key and re-wraps to the current one without touching the ciphertext', () => {
    const old = createKeyring(k1)
    const sealed = encryptSecret(old, secret, aad)
    const rotated = createKeyring(`${k2}, ${k1}`)
    expect(rotated.currentKeyId).toBe('k2')
    expect(decryptSecret(rotated, sealed, aad)).toEqual(secret)

    const rewrapped = rewrapSecret(rotated, sealed, aad)
    expect(sealedKeyId(rewrapped)).toBe('k2')
    expect(rewrapped.split('.')[3]).toBe(sealed.split('.')[3])
    expect(decryptSecret(createKeyring(k2), rewrapped, aad)).toEqual(secret)
    expect(() => decryptSecret(createKeyring(k2), sealed, aad)).toThrow(code('KEYS.UNKNOWN_MASTER_KEY'))
    expect(rewrapSecret(rotated, rewrapped, aad)).toBe(rewrapped)
  })

  it('refuses to re-wrap a corrupted envelope', () => {
    const rotated = createKeyring(`${k2},${k1}`)
    const sealed = encryptSecret(createKeyring(k1), secret, aad)
    expect(() => rewrapSecret(rotated, tamperPart(sealed, 3, 20), aad)).toThrow(code('KEYS.DECRYPT_FAILED'))
  })
})

describe('createKeyring', () => {
  it('takes one plain base64 value as the key "default"', () => {
    const keyring = createKeyring(generateMasterKey())
    expect(keyring.currentKeyId).toBe('default')
    expect(sealedKeyId(encryptSecret(keyring, secret, aad))).toBe('default')
  })

  it.each([undefined, '', ' , '])('reports a missing master key for %j', (value) => {
    expect(() => createKeyring(value)).toThrow(code('KEYS.MASTER_KEY_MISSING'))
  })

  /** createKeyring(value)'s refusal, which must be MASTER_KEY_INVALID, as every way it can be printed. */
  function refusedAsInvalid(value: string): string {
    let error: unknown
    try {
      createKeyring(value)
    } catch (caught) {
      error = caught
    }
    expect(error).toMatchObject({ code: 'KEYS.MASTER_KEY_INVALID' })
    return `${String(error)} ${inspect(error)} ${JSON.stringify(error)}`
  }

  const short = `k3:${Buffer.alloc(31, 7).toString('base64')}`
  it.each([
    ['a 31-byte key', short],
    ['not base64', 'k3:%%%%'],
    ['a bad key id', `k.3:${masterMaterial(k1)}`],
    ['a duplicate id', `${k1},k1:${masterMaterial(k2)}`],
    ['two keys without id', `${masterMaterial(k1)},${masterMaterial(k2)}`],
  ])('refuses %s without echoing key material', (_, value) => {
    const printed = refusedAsInvalid(value)
    for (const entry of value.split(',')) expect(printed).not.toContain(masterMaterial(entry))
  })

  it('refuses a key written before its id without echoing it (unpadded base64 reads as a key id)', () => {
    const material = Buffer.alloc(32, 1).toString('base64').replace(/=+$/, '')
    for (const value of [`${material}:k1`, `k1:${masterMaterial(k1)},${material}:k2,${material}:k3`]) {
      expect(refusedAsInvalid(value)).not.toContain(material.slice(0, 12))
    }
  })

  it('never prints master keys', () => {
    const keyring: Keyring = createKeyring(`${k2},${k1}`)
    const printed = `${String(keyring)} ${inspect(keyring, { showHidden: true, depth: Infinity })} ${JSON.stringify(keyring)}`
    expect(printed).toContain('k2')
    for (const entry of [k1, k2]) {
      expect(printed).not.toContain(masterMaterial(entry))
      expect(printed).not.toContain(Buffer.from(masterMaterial(entry), 'base64').toString('hex'))
    }
  })

  it('keeps key material out of decryption errors', () => {
    const keyring = createKeyring(k1)
    const sealed = encryptSecret(keyring, secret, aad)
    // Caught here and checked below: a decryption that stopped failing must fail this test, not pass it.
    let error: unknown
    try {
      decryptSecret(keyring, sealed, 'session:other')
    } catch (thrown) {
      error = thrown
    }
    expect(error).toBeInstanceOf(DecryptFailedError)
    expect(error).toMatchObject({ code: 'KEYS.DECRYPT_FAILED', part: 'wrapped data key' })
    const printed = `${inspect(error)} ${JSON.stringify(error)}`
    expect(printed).not.toContain(masterMaterial(k1))
    expect(printed).not.toContain(bytesToHex(secret).slice(2))
  })
})

describe('a session key sealed for its row', () => {
  it('unseals to the same key for that row only, and the exported copy of the secret is wiped once sealed', () => {
    const keyring = createKeyring(k1)
    const key = SessionKey.generate()
    const exported: Uint8Array[] = []
    const exportSecretForEncryption = key.exportSecretForEncryption.bind(key)
    const watched = Object.assign(Object.create(Object.getPrototypeOf(key) as object) as SessionKey, key, {
      exportSecretForEncryption: () => { const copy = exportSecretForEncryption(); exported.push(copy); return copy },
    })
    const sealed = sealSessionKey(keyring, watched, 'session-a')
    expect(exported).toHaveLength(1)
    expect([...exported[0]!].every((byte) => byte === 0)).toBe(true)
    expect(unsealSessionKey(keyring, { id: 'session-a', sealedPrivateKey: sealed, publicKey: key.publicKey }).publicKey).toBe(key.publicKey)
    expect(() => unsealSessionKey(keyring, { id: 'session-b', sealedPrivateKey: sealed, publicKey: key.publicKey })).toThrow()
  })
})
