import { SessionKey } from '../../keys/SessionKey.js'
import { decryptSecret } from '../../keys/decryptSecret.js'
import { encryptSecret } from '../../keys/encryptSecret.js'
import type { Keyring } from '../../keys/Keyring.js'
import { SessionKeyMismatchError } from '../../keys/errors.js'
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
 * the decrypted buffer is wiped), and checks it is the key the row names: another key (the stored
 * key is not the delegated one) is `SessionKeyMismatchError`, never a key to sign with. Callers
 * that would sign quarantine the session (`quarantineMismatchedKey`), as for SignerMismatch.
 */
export function unsealSessionKey(keyring: Keyring, row: Pick<SessionRow, 'id' | 'sealedPrivateKey' | 'publicKey'>): SessionKey {
  const secret = decryptSecret(keyring, row.sealedPrivateKey, sessionKeyAad(row.id))
  let key: SessionKey
  try {
    key = SessionKey.fromSecret(secret)
  } finally {
    secret.fill(0)
  }
  if (key.publicKey.toLowerCase() !== row.publicKey.toLowerCase()) throw new SessionKeyMismatchError(row.id)
  return key
}
