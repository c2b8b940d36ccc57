import { and, ne, sql } from 'drizzle-orm'
import type { Keyring } from '../../keys/Keyring.js'
import { decryptSecret } from '../../keys/decryptSecret.js'
import { DecryptFailedError, SessionKeyCorruptError, SessionKeyIntegrityError } from '../../keys/errors.js'
import type { Db } from '../../store/Database.js'
import { type SessionRow, sessions } from '../../store/schema/index.js'
import { sessionKeyAad } from './sealedSessionKey.js'

/**
 * Whether `error`, thrown unsealing the session's key (`unsealSessionKey`), shows that its stored key
 * is not the delegated one: answers the `SessionKeyIntegrityError` to quarantine it with, or
 * undefined for a failure left as it is (retried; a configuration problem the start-up check names).
 *
 * A data key the master key does not open for this row is one only when the keyring can vouch for
 * the master key: the row holds the ciphertext of another session's sealed key (copied from its row,
 * the two mixed up), which opens there under its own row. Otherwise it reads the same as another key
 * given the same id (the API and the worker each given their own key), which must not quarantine
 * every session that key sealed. That look-up reads the sessions table without an index, on this
 * rare path only.
 */
export async function sealedKeyIntegrity(db: Db, keyring: Keyring, session: Pick<SessionRow, 'id' | 'sealedPrivateKey'>, error: unknown): Promise<SessionKeyIntegrityError | undefined> {
  if (error instanceof SessionKeyIntegrityError) return error
  if (!(error instanceof DecryptFailedError) || error.part !== 'wrapped data key') return undefined
  // The secret's ciphertext: a rewrap changes the wrapped data key only.
  const ciphertext = session.sealedPrivateKey.split('.')[3]
  if (!ciphertext) return undefined
  const others = await db.select({ id: sessions.id, sealedPrivateKey: sessions.sealedPrivateKey }).from(sessions)
    .where(and(ne(sessions.id, session.id), sql`split_part(${sessions.sealedPrivateKey}, '.', 4) = ${ciphertext}`)).limit(4)
  for (const other of others) {
    try {
      decryptSecret(keyring, other.sealedPrivateKey, sessionKeyAad(other.id)).fill(0)
      return new SessionKeyCorruptError(session.id, 'anotherSession')
    } catch {
      // Not a row it opens in: no proof.
    }
  }
  return undefined
}
