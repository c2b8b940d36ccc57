import { randomBytes } from 'node:crypto'
import { MasterKeyInvalidError } from './errors.js'
import { MASTER_KEY_ID } from './Keyring.js'

/** A new master key as a `DEPUTY_MASTER_KEY` entry: `keyId:base64(32 random bytes)`, or plain base64 without an id. */
export function generateMasterKey(keyId?: string): string {
  if (keyId !== undefined && !MASTER_KEY_ID.test(keyId)) throw new MasterKeyInvalidError('the key id must be 1–64 letters, digits, "_" or "-"')
  const encoded = randomBytes(32).toString('base64')
  return keyId === undefined ? encoded : `${keyId}:${encoded}`
}
