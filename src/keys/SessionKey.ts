import type { Hex } from 'viem'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes } from '../core/crypto/hex.js'
import { InvalidSessionSecretError } from './errors.js'
import './wideBaseTable.js'

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom')

/**
 * A session keypair (secp256k1). The secret lives in a private field and is
 * never printed: `String()`, template strings, `util.inspect`, `console.log`
 * and `JSON.stringify` all show the public key only. The one way out is
 * `exportSecretForEncryption()`, for sealing it at rest.
 */
export class SessionKey {
  readonly #secret: Uint8Array
  /** 33-byte compressed SEC1 public key (`0x02…` / `0x03…`), as the Delegation carries it. */
  readonly publicKey: Hex

  private constructor(secret: Uint8Array) {
    this.#secret = secret
    this.publicKey = bytesToHex(secp256k1.getPublicKey(secret, true))
  }

  static generate(): SessionKey {
    return new SessionKey(secp256k1.utils.randomSecretKey())
  }

  /** Rebuilds a key from its 32 secret bytes (copied: the caller may wipe its array). */
  static fromSecret(secret: Uint8Array): SessionKey {
    if (!(secret instanceof Uint8Array) || !secp256k1.utils.isValidSecretKey(secret)) throw new InvalidSessionSecretError()
    return new SessionKey(Uint8Array.from(secret))
  }

  /**
   * Signs a precomputed 32-byte digest: RFC 6979 deterministic, low s,
   * 65 bytes r‖s‖v with v = 27/28.
   */
  signDigestBytes(digest: Uint8Array): Uint8Array {
    if (digest.length !== 32) throw new RangeError('the digest must be 32 bytes')
    // prehash: false, because the EIP-712 digest is already the message hash (noble v2 would SHA-256 it again).
    const recovered = secp256k1.sign(digest, this.#secret, { prehash: false, format: 'recovered' })
    const recovery = recovered[0]!
    // 2 and 3 (r ≥ n) occur with probability ~2^-128 and have no Ethereum v.
    if (recovery > 1) throw new RangeError('unrepresentable recovery id')
    const signature = new Uint8Array(65)
    signature.set(recovered.subarray(1), 0)
    signature[64] = 27 + recovery
    return signature
  }

  signDigest(digest: Hex | Uint8Array): Hex {
    const bytes = typeof digest === 'string' ? hexToBytes(digest) : digest
    if (!bytes) throw new RangeError('the digest must be 0x-hex')
    return bytesToHex(this.signDigestBytes(bytes))
  }

  /** A copy of the 32 secret bytes, for envelope encryption only. Wipe it (`fill(0)`) after use. */
  exportSecretForEncryption(): Uint8Array {
    return Uint8Array.from(this.#secret)
  }

  toString(): string {
    return `SessionKey(${this.publicKey})`
  }
  toJSON(): { publicKey: Hex } {
    return { publicKey: this.publicKey }
  }
  [inspectSymbol](): string {
    return this.toString()
  }
}

export function generateSessionKey(): SessionKey {
  return SessionKey.generate()
}
