import { randomBytes } from 'node:crypto'
import type { Keyring } from './Keyring.js'
import { sealAesGcm } from './aesGcm.js'
import { dataAad, formatSealed } from './sealedSecret.js'

/**
 * Envelope-encrypts a secret: a fresh random 256-bit data key encrypts it
 * (AES-256-GCM), and the keyring's current master key wraps the data key. `aad`
 * (e.g. the session id) binds the result to its row: decrypting needs the same.
 */
export function encryptSecret(keyring: Keyring, secret: Uint8Array, aad: string): string {
  const dataKey = randomBytes(32)
  try {
    const ciphertext = sealAesGcm(dataKey, secret, dataAad(aad))
    const { keyId, wrapped } = keyring.wrapDataKey(dataKey, aad)
    return formatSealed({ keyId, wrappedKey: wrapped, ciphertext })
  } finally {
    dataKey.fill(0)
  }
}
