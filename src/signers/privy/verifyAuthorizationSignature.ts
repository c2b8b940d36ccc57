import { p256 } from '@noble/curves/nist.js'
import { decodeP256Spki } from './p256Der.js'

/**
 * Checks one base64 DER P-256 signature over `payload` against a base64 SPKI
 * public key, as Privy does. Accepts both S halves (the SDK emits high S).
 * Never throws: malformed input is simply not a valid signature.
 */
export function verifyAuthorizationSignature(signature: string, payload: Uint8Array, publicKey: string): boolean {
  try {
    const point = decodeP256Spki(Buffer.from(publicKey, 'base64'))
    const der = Buffer.from(signature.trim(), 'base64')
    return p256.verify(der, payload, point, { prehash: true, lowS: false, format: 'der' })
  } catch {
    return false
  }
}
