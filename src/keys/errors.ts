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

export class DecryptFailedError extends BaseError {
  override name = 'DecryptFailedError'
  constructor(reason: string) {
    super(`cannot decrypt the sealed secret: ${reason}`, {
      code: 'KEYS.DECRYPT_FAILED',
      hint: 'the stored value may be corrupted, belong to another row (its additional authenticated data differs), or have been sealed under a different key with the same id',
    })
  }
}

export class InvalidSessionSecretError extends BaseError {
  override name = 'InvalidSessionSecretError'
  constructor() {
    super('not a valid secp256k1 secret key (32 bytes, 0 < key < n)', { code: 'KEYS.INVALID_SECRET' })
  }
}

/**
 * A sealed session key that opens (the master key and the row's AAD are right) to a key other than
 * the session's public key: the stored key is not the delegated one (tampered with, a bad rewrap,
 * a restore from another backup). Nothing may be signed with it. Names the session only.
 */
export class SessionKeyMismatchError extends BaseError {
  override name = 'SessionKeyMismatchError'
  readonly sessionId: string
  constructor(sessionId: string) {
    super(`session ${sessionId}: the stored session key does not match the session's public key (it is not the delegated key)`, {
      code: 'KEYS.SESSION_KEY_MISMATCH',
      hint: 'the sealed key in Postgres was replaced or mixed up (tampering, a bad rewrap, a restore from another backup): the session is quarantined; check how the row changed',
    })
    this.sessionId = sessionId
  }
}
