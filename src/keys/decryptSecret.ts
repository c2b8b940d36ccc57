import type { Keyring } from './Keyring.js'
import { openAesGcm } from './aesGcm.js'
import { dataAad, parseSealed } from './sealedSecret.js'

/**
 * Opens what `encryptSecret` sealed, under whichever keyring master key it names.
 * Throws UnknownMasterKeyError for a retired key id, DecryptFailedError for any
 * tampering, a wrong key or another row's AAD. Wipe the result after use.
 */
export function decryptSecret(keyring: Keyring, sealed: string, aad: string): Uint8Array {
  const expectedAad = dataAad(aad)
  const { keyId, wrappedKey, ciphertext } = parseSealed(sealed)
  const dataKey = keyring.unwrapDataKey(keyId, wrappedKey, aad)
  try {
    return openAesGcm(dataKey, ciphertext, expectedAad, 'secret')
  } finally {
    dataKey.fill(0)
  }
}
