import { and, count, desc, eq, notInArray } from 'drizzle-orm'
import type { Logger } from 'pino'
import { ConfigError } from '../../core/errors/ConfigError.js'
import type { Keyring } from '../../keys/Keyring.js'
import { DecryptFailedError } from '../../keys/errors.js'
import type { Db } from '../../store/Database.js'
import { sessions } from '../../store/schema/index.js'
import { sealedKeyIntegrity } from './sealedKeyIntegrity.js'
import { unsealSessionKey } from './sealedSessionKey.js'

/** Sessions under one key id whose own stored key is in doubt passed over before the key id is left unchecked. */
const MAX_PASSED_OVER = 5

/**
 * Start-up check of `DEPUTY_MASTER_KEY` against the session keys it sealed, for the worker and the
 * API (after migrating, before waiting for the operator). For each key id the keyring holds, the
 * active session sealed under that id that expires last is unsealed: a key that does not open it is
 * another key under the same id (a typo'd copy, a key generated anew, the API and the worker each
 * given their own), and a ConfigError names the variable, the entry and the session, never a key or
 * a key id (exit 2). Without it the process started and then failed, as it tried to sign, every
 * order, cancel and revocation of those wallets; and, the key current, sealed new sessions under
 * that id with a key the other processes cannot open. Active sessions under a key id the keyring
 * does not hold (a key dropped before `deputy keys rewrap` moved them) are logged, not refused: a
 * lost key must not keep the worker from rotating those wallets to new sessions.
 *
 * A session whose own stored key proves not to be the delegated one (`sealedKeyIntegrity`: another
 * key than its public key, corrupt, another session's) says nothing of the master key unless it
 * opened: it is logged (error, its id and code) and the next session under that id is opened
 * instead (up to five passed over). It is not quarantined here: the worker's start-up reconciliation,
 * moments later and before any submission, unseals every active session through the session signers
 * and quarantines each such one (KEY_INTEGRITY); this check opens one session per key id, before the
 * operator, the alerts and the queues are up, and the API has no quarantine of its own.
 */
export async function checkMasterKeysOpenSessions(db: Db, keyring: Keyring, log: Logger): Promise<void> {
  for (const [index, keyId] of keyring.keyIds.entries()) {
    const passedOver: string[] = []
    while (passedOver.length < MAX_PASSED_OVER) {
      // Served by sessions_status_expiry_idx.
      const [row] = await db.select({ id: sessions.id, sealedPrivateKey: sessions.sealedPrivateKey, publicKey: sessions.publicKey }).from(sessions)
        .where(and(eq(sessions.status, 'active'), eq(sessions.masterKeyId, keyId), passedOver.length ? notInArray(sessions.id, passedOver) : undefined))
        .orderBy(desc(sessions.expiry)).limit(1)
      if (!row) break
      try {
        unsealSessionKey(keyring, row)
        break
      } catch (error) {
        const problem = await sealedKeyIntegrity(db, keyring, row, error)
        if (problem) {
          log.error({ sessionId: row.id, code: problem.code }, `${problem.reason}; the worker quarantines the session and alerts KEY_INTEGRITY as it unseals it`)
          // Another key than its public key: the master key opened it, which is all this checks.
          if (problem.code === 'KEYS.SESSION_KEY_MISMATCH') break
          passedOver.push(row.id)
          continue
        }
        if (!(error instanceof DecryptFailedError)) break
        throw new ConfigError(`DEPUTY_MASTER_KEY: entry ${index + 1} does not open session ${row.id}'s key, sealed under its key id: it is not the key that sealed it; `
          + 'give every process the same keys, and a new key a new id (an id names one key for good)')
      }
    }
  }
  const held = new Set(keyring.keyIds)
  const unheld = (await db.select({ keyId: sessions.masterKeyId, sessions: count() }).from(sessions).where(eq(sessions.status, 'active')).groupBy(sessions.masterKeyId))
    .filter((group) => !held.has(group.keyId))
  const stranded = unheld.reduce((sum, group) => sum + group.sessions, 0)
  if (stranded > 0) {
    log.error({ sessions: stranded }, 'active session keys are sealed under a master key DEPUTY_MASTER_KEY does not hold: their wallets cannot sign until it is put back (after the current key) and `deputy keys rewrap` is run, or their sessions are rotated')
  }
}
