import { and, asc, eq, gt, ne, or, sql } from 'drizzle-orm'
import { BaseError } from '../../core/errors/BaseError.js'
import type { Keyring } from '../../keys/Keyring.js'
import { rewrapSecret } from '../../keys/rewrapSecret.js'
import { SEALED_FORMAT, sealedKeyId } from '../../keys/sealedSecret.js'
import type { Db } from '../../store/Database.js'
import { sessions } from '../../store/schema/index.js'
import { sessionKeyAad } from './sealedSessionKey.js'

export type RewrapReport = {
  /** The master key every re-sealed key is now under. */
  currentKeyId: string
  rewrapped: number
  /** Rows that could not be moved (their master key is not in the keyring, or the envelope is corrupt): ids and codes, never key material. */
  failed: { sessionId: string; masterKeyId: string; code: string }[]
}

/**
 * Master-key rotation: moves every session's sealed key that is not under the keyring's current
 * master key to it (`rewrapSecret`: only the data key is re-wrapped, the secret never leaves the
 * envelope), ended sessions included (a revocation still to be retried needs its session's key).
 * After a run with no failures, the retired keys can leave `DEPUTY_MASTER_KEY`. Each row is
 * written with a compare-and-set on its sealed value, so a concurrent run or a grant is never
 * overwritten; safe to run again, and while the worker and the API run. A row is picked by the
 * master key its sealed value names (the one decryption uses) as well as by its `master_key_id`
 * column: a column that says current over a value sealed under a retired key (a restore, a hand
 * edit) would otherwise be skipped, and the report would clear a key that row still needs.
 */
export async function rewrapSessionKeys(db: Db, keyring: Keyring, batchSize = 200): Promise<RewrapReport> {
  const report: RewrapReport = { currentKeyId: keyring.currentKeyId, rewrapped: 0, failed: [] }
  const currentPrefix = `${SEALED_FORMAT}.${keyring.currentKeyId}.`
  const notCurrent = or(ne(sessions.masterKeyId, keyring.currentKeyId), sql`left(${sessions.sealedPrivateKey}, ${currentPrefix.length}) <> ${currentPrefix}`)
  let after = ''
  for (;;) {
    const rows = await db.select({ id: sessions.id, sealed: sessions.sealedPrivateKey, masterKeyId: sessions.masterKeyId }).from(sessions)
      .where(and(notCurrent, after ? gt(sessions.id, after) : undefined))
      .orderBy(asc(sessions.id)).limit(batchSize)
    if (rows.length === 0) return report
    after = rows.at(-1)!.id
    for (const row of rows) {
      let sealed: string
      try {
        sealed = rewrapSecret(keyring, row.sealed, sessionKeyAad(row.id))
      } catch (error) {
        report.failed.push({ sessionId: row.id, masterKeyId: sealedUnder(row), code: error instanceof BaseError ? error.code : 'KEYS.REWRAP_FAILED' })
        continue
      }
      // updated_at kept: for a session rotated out it dates the rotation, whose grace its revocation waits out.
      const written = await db.update(sessions).set({ sealedPrivateKey: sealed, masterKeyId: keyring.currentKeyId, updatedAt: sql`${sessions.updatedAt}` })
        .where(and(eq(sessions.id, row.id), eq(sessions.sealedPrivateKey, row.sealed))).returning({ id: sessions.id })
      if (written.length) report.rewrapped++
    }
  }
}

/** The master key a row's sealed value names (the one to keep for it), or its column's when the value is unreadable. */
function sealedUnder(row: { sealed: string; masterKeyId: string }): string {
  try {
    return sealedKeyId(row.sealed)
  } catch {
    return row.masterKeyId
  }
}
