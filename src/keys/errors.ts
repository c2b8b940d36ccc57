import { BaseError } from '../core/errors/BaseError.js'

/*
 * Key errors. None of them carries key material: messages name master key ids
 * and entry positions only, and causes from node:crypto are left out where they
 * could echo input.
 */

/** What DEPUTY_MASTER_KEY must hold. */
export const MASTER_KEY_RULE = 'each comma-separated entry is "keyId:base64" (keyId of letters, digits, "_" or "-") or one plain base64 value, and decodes to exactly 32 bytes'

export class MasterKeyMissingError extends BaseError {
  override name = 'MasterKeyMissingError'
  constructor() {
    super('no master key is configured', {
      code: 'KEYS.MASTER_KEY_MISSING',
      hint: 'set DEPUTY_MASTER_KEY to "keyId:base64(32 bytes)" (comma-separated, current key first); generateMasterKey() makes one',
    })
  }
}

export class MasterKeyInvalidError extends BaseError {
  override name = 'MasterKeyInvalidError'
  /** What is wrong, without the variable's name (entry position and key id only). */
  readonly problem: string
  constructor(problem: string) {
    super(`DEPUTY_MASTER_KEY is malformed: ${problem}`, {
      code: 'KEYS.MASTER_KEY_INVALID',
      hint: MASTER_KEY_RULE,
    })
    this.problem = problem
  }
}

export class UnknownMasterKeyError extends BaseError {
  override name = 'UnknownMasterKeyError'
  readonly keyId: string
  constructor(keyId: string) {
    super(`the secret was sealed under master key "${keyId}", which DEPUTY_MASTER_KEY does not hold`, {
      code: 'KEYS.UNKNOWN_MASTER_KEY',
      hint: 'keep retired master keys in DEPUTY_MASTER_KEY (after the current one) until every secret has been re-wrapped',
    })
    this.keyId = keyId
  }
}

/**
 * Which part of a sealed secret failed: its `format` (not a sealed string at all), the `wrapped data
 * key` (the master key under the id it names, with the row's AAD, does not open it: another key under
 * that id, or a wrapped key altered or from another row), or the `secret` (the data key opened, so
 * the master key is the one that sealed it for this row, but the ciphertext does not authenticate).
 */
export type SealedPart = 'format' | 'wrapped data key' | 'secret'

export class DecryptFailedError extends BaseError {
  override name = 'DecryptFailedError'
  readonly part: SealedPart
  constructor(reason: string, part: SealedPart) {
    super(`cannot decrypt the sealed secret: ${reason}`, {
      code: 'KEYS.DECRYPT_FAILED',
      hint: 'the stored value may be corrupted, belong to another row (its additional authenticated data differs), or have been sealed under a different key with the same id',
    })
    this.part = part
  }
}

export class InvalidSessionSecretError extends BaseError {
  override name = 'InvalidSessionSecretError'
  constructor() {
    super('not a valid secp256k1 secret key (32 bytes, 0 < key < n)', { code: 'KEYS.INVALID_SECRET' })
  }
}

/**
 * A session's stored key that is not the delegated one, found before anything is signed with it: the
 * key-integrity problem the operator's SignerMismatch reports. `reason` is the quarantined session's
 * status reason. Names the session only.
 */
export abstract class SessionKeyIntegrityError extends BaseError {
  readonly sessionId: string
  abstract readonly reason: string
  constructor(sessionId: string, shortMessage: string, code: string) {
    super(`session ${sessionId}: ${shortMessage}`, {
      code,
      hint: 'the sealed key in Postgres was replaced or mixed up (tampering, a bad rewrap, a restore from another backup): the session is quarantined; check how the row changed',
    })
    this.sessionId = sessionId
  }
}

/**
 * A sealed session key that opens (the master key and the row's AAD are right) to a key other than
 * the session's public key: the stored key is not the delegated one (tampered with, a bad rewrap,
 * a restore from another backup). Nothing may be signed with it.
 */
export class SessionKeyMismatchError extends SessionKeyIntegrityError {
  override name = 'SessionKeyMismatchError'
  readonly reason = "the stored session key does not match the session's public key: it is not the delegated key"
  constructor(sessionId: string) {
    super(sessionId, "the stored session key does not match the session's public key (it is not the delegated key)", 'KEYS.SESSION_KEY_MISMATCH')
  }
}

/**
 * A sealed session key that cannot be opened for its row although the keyring can vouch for the
 * master key: `corrupt` (not a sealed value at all, or the master key opened its data key for this
 * row and the ciphertext does not authenticate: altered), or `anotherSession` (it is the sealed key of
 * another session's row, which it opens there: copied or mixed up). Not a master key that differs
 * from the one that sealed it (that is a configuration problem, `DecryptFailedError`).
 */
export class SessionKeyCorruptError extends SessionKeyIntegrityError {
  override name = 'SessionKeyCorruptError'
  readonly reason: string
  constructor(sessionId: string, why: 'corrupt' | 'anotherSession') {
    const reason = why === 'corrupt'
      ? 'the stored session key is corrupt: it does not authenticate under the master key that sealed it for this session'
      : "the stored session key is another session's (copied from its row): it is not the delegated key"
    super(sessionId, reason, 'KEYS.SESSION_KEY_CORRUPT')
    this.reason = reason
  }
}
