import { SessionKey } from '../../keys/SessionKey.js'
import { decryptSecret } from '../../keys/decryptSecret.js'
import { encryptSecret } from '../../keys/encryptSecret.js'
import type { Keyring } from '../../keys/Keyring.js'
import { DecryptFailedError, InvalidSessionSecretError, SessionKeyCorruptError, SessionKeyMismatchError } from '../../keys/errors.js'
import type { SessionRow } from '../../store/schema/index.js'

/** Binds a sealed session key to its row, so ciphertexts cannot be swapped between sessions. */
export function sessionKeyAad(sessionId: string): string {
  return `deputy:session-key:${sessionId}`
}

/** Seals a session's private key for its row; the exported copy of the secret is wiped once sealed. */
export function sealSessionKey(keyring: Keyring, key: SessionKey, sessionId: string): string {
  const secret = key.exportSecretForEncryption()
  try {
    return encryptSecret(keyring, secret, sessionKeyAad(sessionId))
  } finally {
    secret.fill(0)
  }
}

/**
 * Unseals a session's private key into a key object (which keeps its own copy;
 * the decrypted buffer is wiped), and checks it is the key the row names. What shows the stored key
 * is not the delegated one is a `SessionKeyIntegrityError`, never a key to sign with: another key
 * (or no valid key at all) is `SessionKeyMismatchError`; a value that is no sealed secret, or whose
 * data key the master key opened for this row but whose ciphertext does not authenticate, is
 * `SessionKeyCorruptError`. A data key the master key does not open (`DecryptFailedError`, part
 * `wrapped data key`) is left as it is: another key under the same id (configuration) reads the
 * same as a row's own problem; `sealedKeyIntegrity` tells a key copied from another row apart.
 * Callers that would sign quarantine the session (`quarantineKeyIntegrity`), as for SignerMismatch.
 */
export function unsealSessionKey(keyring: Keyring, row: Pick<SessionRow, 'id' | 'sealedPrivateKey' | 'publicKey'>): SessionKey {
  let secret: Uint8Array
  try {
    secret = decryptSecret(keyring, row.sealedPrivateKey, sessionKeyAad(row.id))
  } catch (error) {
    if (error instanceof DecryptFailedError && error.part !== 'wrapped data key') throw new SessionKeyCorruptError(row.id, 'corrupt')
    throw error
  }
  let key: SessionKey
  try {
    key = SessionKey.fromSecret(secret)
  } catch (error) {
    if (error instanceof InvalidSessionSecretError) throw new SessionKeyMismatchError(row.id)
    throw error
  } finally {
    secret.fill(0)
  }
  if (key.publicKey.toLowerCase() !== row.publicKey.toLowerCase()) throw new SessionKeyMismatchError(row.id)
  return key
}
