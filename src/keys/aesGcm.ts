import { type KeyObject, createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { DecryptFailedError, type SealedPart } from './errors.js'

const IV_BYTES = 12
const TAG_BYTES = 16

/** AES-256-GCM: `iv ‖ ciphertext ‖ tag` under a fresh random 96-bit IV. */
export function sealAesGcm(key: KeyObject | Uint8Array, plaintext: Uint8Array, aad: string): Uint8Array {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.from(aad, 'utf8'))
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
}

/** Opens what `sealAesGcm` made; any change to key, bytes or AAD throws DecryptFailedError. */
export function openAesGcm(key: KeyObject | Uint8Array, sealed: Uint8Array, aad: string, what: Exclude<SealedPart, 'format'>): Uint8Array {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new DecryptFailedError(`the ${what} is truncated`, what)
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES })
  decipher.setAAD(Buffer.from(aad, 'utf8'))
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES))
  const plaintext = decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES))
  let rest: Buffer
  try {
    rest = decipher.final()
  } catch {
    // The cause is deliberately dropped: it says nothing more than "unable to authenticate".
    plaintext.fill(0)
    throw new DecryptFailedError(`the ${what} does not authenticate`, what)
  }
  // A plain array of its own: small Buffers are slices of a shared pool the caller could not wipe.
  const opened = new Uint8Array(plaintext.length + rest.length)
  opened.set(plaintext)
  opened.set(rest, plaintext.length)
  plaintext.fill(0)
  return opened
}
