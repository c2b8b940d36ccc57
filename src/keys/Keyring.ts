import { type KeyObject, createSecretKey } from 'node:crypto'
import { MasterKeyInvalidError, MasterKeyMissingError, UnknownMasterKeyError } from './errors.js'
import { openAesGcm, sealAesGcm } from './aesGcm.js'

const DEFAULT_MASTER_KEY_ID = 'default'
/** Key ids are plain tokens, so they sit unescaped in the sealed format and in the env list. */
export const MASTER_KEY_ID = /^[A-Za-z0-9_-]{1,64}$/
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/
const MASTER_KEY_BYTES = 32

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom')

/**
 * The master keys: the current one wraps new data keys, the others only unwrap
 * (rotation). The keys never leave this object, and it prints ids only.
 */
export class Keyring {
  readonly currentKeyId: string
  readonly keyIds: readonly string[]
  readonly #keys: ReadonlyMap<string, KeyObject>

  constructor(keys: ReadonlyMap<string, KeyObject>) {
    const ids = [...keys.keys()]
    if (!ids.length) throw new MasterKeyMissingError()
    this.#keys = keys
    this.keyIds = ids
    this.currentKeyId = ids[0]!
  }

  /** Encrypts a data key under the current master key; `aad` must come back to unwrap it. */
  wrapDataKey(dataKey: Uint8Array, aad: string): { keyId: string; wrapped: Uint8Array } {
    const keyId = this.currentKeyId
    return { keyId, wrapped: sealAesGcm(this.#keys.get(keyId)!, dataKey, wrapAad(keyId, aad)) }
  }

  unwrapDataKey(keyId: string, wrapped: Uint8Array, aad: string): Uint8Array {
    const key = this.#keys.get(keyId)
    if (!key) throw new UnknownMasterKeyError(keyId)
    return openAesGcm(key, wrapped, wrapAad(keyId, aad), 'wrapped data key')
  }

  toString(): string {
    return `Keyring(current ${this.currentKeyId}; ${this.keyIds.join(', ')})`
  }
  toJSON(): { currentKeyId: string; keyIds: readonly string[] } {
    return { currentKeyId: this.currentKeyId, keyIds: this.keyIds }
  }
  [inspectSymbol](): string {
    return this.toString()
  }
}

/** The wrapped data key is bound to its master key id and to the row's AAD. */
function wrapAad(keyId: string, aad: string): string {
  return `dk1\nwrap\n${keyId}\n${aad}`
}

/**
 * Parses `DEPUTY_MASTER_KEY`: comma-separated `keyId:base64(32 bytes)` entries,
 * the first current; a single plain base64 value has id `default`.
 */
export function createKeyring(envValue: string | undefined): Keyring {
  const entries = (envValue ?? '').split(',').map((entry) => entry.trim()).filter(Boolean)
  if (!entries.length) throw new MasterKeyMissingError()
  const keys = new Map<string, KeyObject>()
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':')
    const keyId = colon < 0 ? DEFAULT_MASTER_KEY_ID : entry.slice(0, colon).trim()
    const encoded = colon < 0 ? entry : entry.slice(colon + 1).trim()
    const where = `entry ${index + 1}`
    if (!MASTER_KEY_ID.test(keyId)) throw new MasterKeyInvalidError(`${where}: the key id must be 1–64 letters, digits, "_" or "-"`)
    // The key id is never quoted: a key written before its id, unpadded, reads as one.
    if (keys.has(keyId)) throw new MasterKeyInvalidError(`${where}: its key id is an earlier entry's too`)
    const bytes = BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined
    if (bytes?.length !== MASTER_KEY_BYTES) {
      bytes?.fill(0)
      throw new MasterKeyInvalidError(`${where}: not base64 of exactly ${MASTER_KEY_BYTES} bytes (entries are keyId:base64key)`)
    }
    keys.set(keyId, createSecretKey(bytes))
    bytes.fill(0)
  })
  return new Keyring(keys)
}
