import { DecryptFailedError } from './errors.js'
import { MASTER_KEY_ID } from './Keyring.js'

/**
 * A sealed secret is one self-describing string:
 *
 *   dk1.<masterKeyId>.<base64url(iv ‖ wrapped data key ‖ tag)>.<base64url(iv ‖ encrypted secret ‖ tag)>
 *
 * `dk1` names the format version (AES-256-GCM envelope, AAD layout below), so a
 * later format can be told apart and migrated.
 */
export const SEALED_FORMAT = 'dk1'

export type SealedParts = { keyId: string; wrappedKey: Uint8Array; ciphertext: Uint8Array }

const BASE64URL = /^[A-Za-z0-9_-]+$/

export function formatSealed({ keyId, wrappedKey, ciphertext }: SealedParts): string {
  return [SEALED_FORMAT, keyId, Buffer.from(wrappedKey).toString('base64url'), Buffer.from(ciphertext).toString('base64url')].join('.')
}

export function parseSealed(sealed: string): SealedParts {
  const parts = typeof sealed === 'string' ? sealed.split('.') : []
  if (parts.length !== 4 || parts[0] !== SEALED_FORMAT) throw new DecryptFailedError(`not a sealed secret of format ${SEALED_FORMAT}`, 'format')
  const [, keyId, wrappedKey, ciphertext] = parts as [string, string, string, string]
  if (!MASTER_KEY_ID.test(keyId) || !BASE64URL.test(wrappedKey) || !BASE64URL.test(ciphertext)) {
    throw new DecryptFailedError('the sealed secret is malformed', 'format')
  }
  return { keyId, wrappedKey: Buffer.from(wrappedKey, 'base64url'), ciphertext: Buffer.from(ciphertext, 'base64url') }
}

/** The master key id a secret is sealed under, read without decrypting (to find rows to re-wrap). */
export function sealedKeyId(sealed: string): string {
  return parseSealed(sealed).keyId
}

/** The secret's ciphertext is bound to the row (e.g. the session id) it is stored in. */
export function dataAad(aad: string): string {
  if (typeof aad !== 'string' || !aad) throw new RangeError('the additional authenticated data must be a non-empty string (e.g. the session id)')
  return `${SEALED_FORMAT}\ndata\n${aad}`
}
