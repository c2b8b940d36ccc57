import { p256 } from '@noble/curves/nist.js'
import { decodeP256Pkcs8, encodeP256Spki } from './p256Der.js'
import { privyConfigError } from './errors.js'

/** Prefixes Privy puts in front of the base64 PKCS#8 it shows in the dashboard (`wallet-api:` is legacy). */
const KEY_PREFIXES = ['wallet-auth:', 'wallet-api:']
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/** Strips the Privy prefix or PEM armour and whitespace, leaving base64 PKCS#8. */
function pkcs8Base64(text: string): string {
  let value = text.trim()
  for (const prefix of KEY_PREFIXES) if (value.startsWith(prefix)) value = value.slice(prefix.length)
  return value.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '')
}

/**
 * One P-256 authorization key (an app's key, or a user's time-bound key).
 * Signs Privy authorization payloads; the scalar stays in a private field and
 * every way of printing the object shows only the public key.
 */
export class AuthorizationPrivateKey {
  /** Base64 SPKI DER of the public key: the form Privy registers in key quorums. */
  readonly publicKey: string
  readonly #secretKey: Uint8Array

  private constructor(secretKey: Uint8Array) {
    this.#secretKey = secretKey
    this.publicKey = Buffer.from(encodeP256Spki(p256.getPublicKey(secretKey, false))).toString('base64')
  }

  /**
   * Parses a key in Privy's format: `wallet-auth:` + base64 PKCS#8 DER of a P-256
   * key (the prefix and PEM armour are optional). `label` names the key in errors,
   * which never quote the key itself.
   */
  static parse(text: string, label = 'authorization key'): AuthorizationPrivateKey {
    const base64 = pkcs8Base64(text)
    if (!BASE64.test(base64)) {
      throw privyConfigError(`${label} is not base64`, "use the key exactly as Privy's dashboard shows it (wallet-auth:…)")
    }
    let contents
    try {
      contents = decodeP256Pkcs8(Buffer.from(base64, 'base64'))
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : 'unreadable'
      throw privyConfigError(`${label} is not a P-256 PKCS#8 key (${reason})`, 'PRIVY_AUTHORIZATION_KEYS holds the private keys of the session signer, comma-separated, each wallet-auth:<base64>')
    }
    if (!p256.utils.isValidSecretKey(contents.secretKey)) {
      throw privyConfigError(`${label} holds an out-of-range P-256 scalar`, 'regenerate the authorization key in the Privy dashboard')
    }
    const key = new AuthorizationPrivateKey(contents.secretKey)
    if (contents.publicKey !== undefined && Buffer.from(encodeP256Spki(contents.publicKey)).toString('base64') !== key.publicKey) {
      throw privyConfigError(`${label}'s embedded public key does not match its private key`, 'the key text is corrupted; copy it again')
    }
    return key
  }

  /** From a raw 32-byte scalar (tests and freshly generated keys). */
  static fromSecretKey(secretKey: Uint8Array): AuthorizationPrivateKey {
    if (!p256.utils.isValidSecretKey(secretKey)) throw privyConfigError('invalid P-256 scalar', 'use 32 random bytes below the curve order')
    return new AuthorizationPrivateKey(secretKey.slice())
  }

  /**
   * ECDSA P-256 over SHA-256 of `payload` (the canonical JSON bytes), DER, base64.
   * noble's `prehash: true` applies the one SHA-256; RFC 6979 makes it deterministic.
   * `lowS: false` matches @privy-io/node (noble v1 P-256 never normalised S), so
   * both produce the same bytes; Privy accepts either half.
   */
  sign(payload: Uint8Array): string {
    const der = p256.sign(payload, this.#secretKey, { prehash: true, lowS: false, format: 'der' })
    return Buffer.from(der).toString('base64')
  }

  toString(): string {
    return `AuthorizationPrivateKey(public ${this.publicKey.slice(-12)}, private [redacted])`
  }
  toJSON(): { publicKey: string } {
    return { publicKey: this.publicKey }
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString()
  }
}

/** Parses `PRIVY_AUTHORIZATION_KEYS`: comma-separated keys (base64 has no commas). */
export function parseAuthorizationKeys(value: string | readonly string[]): AuthorizationPrivateKey[] {
  const texts = typeof value === 'string' ? value.split(',') : value
  return texts
    .map((text) => text.trim())
    .filter((text) => text.length > 0)
    .map((text, index) => AuthorizationPrivateKey.parse(text, `authorization key #${index + 1}`))
}
