/**
 * The two DER containers Privy uses for P-256 keys: PKCS#8 for authorization
 * private keys and SPKI for the public keys it registers. Only the fixed
 * P-256 shapes are accepted; anything else is refused rather than guessed at.
 */

// id-ecPublicKey (1.2.840.10045.2.1) and prime256v1 (1.2.840.10045.3.1.7), DER-encoded.
const EC_PUBLIC_KEY_OID = Uint8Array.of(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01)
const PRIME256V1_OID = Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07)
const ALGORITHM = Uint8Array.of(0x30, 0x13, ...EC_PUBLIC_KEY_OID, ...PRIME256V1_OID)

type Tlv = { tag: number; value: Uint8Array; end: number }

/** Reads one DER tag-length-value at `offset` (definite lengths only, as DER requires). */
function readTlv(bytes: Uint8Array, offset: number): Tlv {
  const tag = bytes[offset]
  let lengthByte = bytes[offset + 1]
  if (tag === undefined || lengthByte === undefined) throw new Error('truncated DER')
  let cursor = offset + 2
  let length = lengthByte
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f
    if (count === 0 || count > 2) throw new Error('unsupported DER length')
    length = 0
    for (let i = 0; i < count; i++) {
      lengthByte = bytes[cursor++]
      if (lengthByte === undefined) throw new Error('truncated DER')
      length = (length << 8) | lengthByte
    }
  }
  const end = cursor + length
  if (end > bytes.length) throw new Error('truncated DER')
  return { tag, value: bytes.subarray(cursor, end), end }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}

export type Pkcs8Contents = {
  /** The 32-byte private scalar. */
  secretKey: Uint8Array
  /** The uncompressed public point if the key carries one (Node and WebCrypto exports do). */
  publicKey: Uint8Array | undefined
}

/**
 * Parses a PKCS#8 `PrivateKeyInfo` holding a P-256 `ECPrivateKey` (RFC 5208, RFC 5915).
 * Throws a plain Error whose message never contains key bytes.
 */
export function decodeP256Pkcs8(der: Uint8Array): Pkcs8Contents {
  const outer = readTlv(der, 0)
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new Error('not a DER SEQUENCE')
  const body = outer.value
  const version = readTlv(body, 0)
  if (version.tag !== 0x02 || !equalBytes(version.value, Uint8Array.of(0))) throw new Error('unsupported PKCS#8 version')
  const algorithm = readTlv(body, version.end)
  if (!equalBytes(body.subarray(version.end, algorithm.end), ALGORITHM)) throw new Error('not a P-256 key')
  const wrapped = readTlv(body, algorithm.end)
  if (wrapped.tag !== 0x04) throw new Error('missing private key OCTET STRING')

  const ecKey = readTlv(wrapped.value, 0)
  if (ecKey.tag !== 0x30) throw new Error('malformed ECPrivateKey')
  const ecVersion = readTlv(ecKey.value, 0)
  if (ecVersion.tag !== 0x02 || !equalBytes(ecVersion.value, Uint8Array.of(1))) throw new Error('unsupported ECPrivateKey version')
  const scalar = readTlv(ecKey.value, ecVersion.end)
  if (scalar.tag !== 0x04 || scalar.value.length !== 32) throw new Error('private key is not 32 bytes')

  let publicKey: Uint8Array | undefined
  let cursor = scalar.end
  while (cursor < ecKey.value.length) {
    const field = readTlv(ecKey.value, cursor)
    if (field.tag === 0xa1) {
      const bits = readTlv(field.value, 0)
      // BIT STRING: one leading "unused bits" byte (0), then the SEC1 point.
      if (bits.tag !== 0x03 || bits.value[0] !== 0) throw new Error('malformed public key BIT STRING')
      publicKey = bits.value.slice(1)
    }
    cursor = field.end
  }
  return { secretKey: scalar.value.slice(), publicKey }
}

/** PKCS#8 DER in the shape WebCrypto and Node export (scalar plus public point). */
export function encodeP256Pkcs8(secretKey: Uint8Array, uncompressedPublicKey: Uint8Array): Uint8Array {
  if (secretKey.length !== 32 || uncompressedPublicKey.length !== 65) throw new Error('bad P-256 key lengths')
  const ecPrivateKey = Uint8Array.of(
    0x30, 0x6b, 0x02, 0x01, 0x01, 0x04, 0x20, ...secretKey,
    0xa1, 0x44, 0x03, 0x42, 0x00, ...uncompressedPublicKey,
  )
  return Uint8Array.of(0x30, 0x81, 0x87, 0x02, 0x01, 0x00, ...ALGORITHM, 0x04, 0x6d, ...ecPrivateKey)
}

/** SPKI DER of an uncompressed P-256 point: the format Privy registers public keys in. */
export function encodeP256Spki(uncompressedPublicKey: Uint8Array): Uint8Array {
  if (uncompressedPublicKey.length !== 65 || uncompressedPublicKey[0] !== 0x04) throw new Error('expected an uncompressed P-256 point')
  return Uint8Array.of(0x30, 0x59, ...ALGORITHM, 0x03, 0x42, 0x00, ...uncompressedPublicKey)
}

/** The uncompressed point inside a P-256 SPKI. */
export function decodeP256Spki(der: Uint8Array): Uint8Array {
  const outer = readTlv(der, 0)
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new Error('not a DER SEQUENCE')
  const algorithm = readTlv(outer.value, 0)
  if (!equalBytes(outer.value.subarray(0, algorithm.end), ALGORITHM)) throw new Error('not a P-256 key')
  const bits = readTlv(outer.value, algorithm.end)
  if (bits.tag !== 0x03 || bits.value[0] !== 0 || bits.value.length !== 66) throw new Error('malformed public key')
  return bits.value.slice(1)
}
