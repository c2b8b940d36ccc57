import type { Keyring } from './Keyring.js'
import { openAesGcm } from './aesGcm.js'
import { dataAad, formatSealed, parseSealed } from './sealedSecret.js'

/**
 * Moves a sealed secret to the keyring's current master key: only the data key
 * is re-wrapped, the secret's ciphertext stays as it is, and the secret never
 * reaches the caller. The whole envelope is authenticated first, so a corrupted
 * row fails here (DecryptFailedError) rather than after rotation. Returns the
 * input unchanged when it is already under the current key.
 */
export function rewrapSecret(keyring: Keyring, sealed: string, aad: string): string {
  const expectedAad = dataAad(aad)
  const { keyId, wrappedKey, ciphertext } = parseSealed(sealed)
  const dataKey = keyring.unwrapDataKey(keyId, wrappedKey, aad)
  try {
    openAesGcm(dataKey, ciphertext, expectedAad, 'secret').fill(0)
    if (keyId === keyring.currentKeyId) return sealed
    const rewrapped = keyring.wrapDataKey(dataKey, aad)
    return formatSealed({ keyId: rewrapped.keyId, wrappedKey: rewrapped.wrapped, ciphertext })
  } finally {
    dataKey.fill(0)
  }
}
