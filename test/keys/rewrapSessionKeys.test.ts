import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKeyring } from '../../src/keys/Keyring.js'
import { generateMasterKey } from '../../src/keys/generateMasterKey.js'
import { rewrapSessionKeys } from '../../src/runtime/sessions/rewrapSessionKeys.js'
import { unsealSessionKey } from '../../src/runtime/sessions/sealedSessionKey.js'
import type { Db } from '../../src/store/Database.js'
import { sessions } from '../../src/store/schema/index.js'
import { type TestDatabase, createTestDatabase } from '../support/database.js'
import { insertSealedSession } from '../store/fixtures.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const k0 = generateMasterKey('k0')
const k1 = generateMasterKey('k1')
const k2 = generateMasterKey('k2')

let test: TestDatabase
let db: Db
beforeAll(async () => {
  test = await createTestDatabase()
  db = test.database.db
})
afterAll(() => test?.drop())

/** A session (of a wallet of its own) whose key is sealed under the first key of `masterKeys`, as a grant seals it. */
const sealedSession = (masterKeys: string, status: 'active' | 'rotating' | 'revoked' = 'active') => insertSealedSession(db, createKeyring(masterKeys), status)
const rowOf = async (id: string) => (await db.select().from(sessions).where(eq(sessions.id, id)))[0]!

function deputy(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/deputy.js', ...args], { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr })
    })
  })
}

describe('master key rotation: re-sealing session keys', () => {
  it('moves every session key under the current master key, ended sessions too, so the retired key can go; one under a key not held is reported, not lost', async () => {
    const old = [await sealedSession(k1), await sealedSession(k1, 'revoked'), await sealedSession(k1)]
    const current = await sealedSession(k2)
    const orphan = await sealedSession(k0)
    const currentSealed = (await rowOf(current.id)).sealedPrivateKey

    const report = await rewrapSessionKeys(db, createKeyring(`${k2},${k1}`), 2)
    expect(report).toEqual({ currentKeyId: 'k2', rewrapped: 3, failed: [{ sessionId: orphan.id, masterKeyId: 'k0', code: 'KEYS.UNKNOWN_MASTER_KEY' }] })
    // Only the new key is needed now; each row unseals to its own key.
    const newOnly = createKeyring(k2)
    for (const session of [...old, current]) {
      const row = await rowOf(session.id)
      expect(row.masterKeyId).toBe('k2')
      expect(unsealSessionKey(newOnly, row).publicKey).toBe(session.publicKey)
    }
    expect((await rowOf(current.id)).sealedPrivateKey).toBe(currentSealed)
    expect((await rowOf(orphan.id)).masterKeyId).toBe('k0')
    // Again: nothing left to move.
    expect((await rewrapSessionKeys(db, createKeyring(`${k2},${k1}`))).rewrapped).toBe(0)
  })

  it("leaves a session's updated_at as it was: a session rotated out keeps its revocation due at the same time", async () => {
    const rotating = await sealedSession(k1, 'rotating')
    // Rotated out an hour ago: session maintenance revokes it once the rotation grace, counted from updated_at, has passed.
    await db.update(sessions).set({ updatedAt: sql`now() - interval '1 hour'` }).where(eq(sessions.id, rotating.id))
    const before = (await rowOf(rotating.id)).updatedAt
    expect((await rewrapSessionKeys(db, createKeyring(`${k2},${k1}`))).rewrapped).toBeGreaterThanOrEqual(1)
    const after = await rowOf(rotating.id)
    expect(after.masterKeyId).toBe('k2')
    expect(after.updatedAt).toEqual(before)
  })

  it('goes by the master key the sealed value names, not by the master_key_id column: a row whose column says current is still moved', async () => {
    // Sealed under k1, its column relabelled k2 (a restore, a hand edit): the column is bookkeeping, the envelope is authoritative.
    const relabelled = await sealedSession(k1)
    await db.update(sessions).set({ masterKeyId: 'k2' }).where(eq(sessions.id, relabelled.id))
    const report = await rewrapSessionKeys(db, createKeyring(`${k2},${k1}`))
    expect(report.failed.map((failure) => failure.masterKeyId)).toEqual(['k0']) // the first test's session
    expect(report.rewrapped).toBe(1)
    // k1 can go now, as the report says: the session still unseals.
    const row = await rowOf(relabelled.id)
    expect(row.sealedPrivateKey.startsWith('dk1.k2.')).toBe(true)
    expect(unsealSessionKey(createKeyring(k2), row).publicKey).toBe(relabelled.publicKey)
  })

  it('`deputy keys rewrap` reports what it moved and exits 1 naming a session it could not move, without printing key material', async () => {
    await sealedSession(k1)
    const run = await deputy(['keys', 'rewrap'], { DATABASE_URL: test.url, DEPUTY_MASTER_KEY: `${k2},${k1}` })
    expect(run.stdout).toBe('1 session key(s) re-sealed under master key "k2"\n')
    expect(run.code).toBe(1) // the k0 session of the test above
    expect(run.stderr).toMatch(/master key "k0"\): KEYS.UNKNOWN_MASTER_KEY; keep that key in DEPUTY_MASTER_KEY/)
    for (const secret of [k1, k2].map((entry) => entry.split(':')[1]!)) expect(run.stdout + run.stderr).not.toContain(secret)
  })

  it('`deputy keys rewrap` whose write Postgres refuses says why, without printing the sealed keys the statement carried', async () => {
    const session = await sealedSession(k1)
    const sealed = (await rowOf(session.id)).sealedPrivateKey
    // Postgres refusing the write (as a lock or statement timeout, or a dropped connection, would).
    await db.execute(sql.raw(`create function refuse_session_writes() returns trigger language plpgsql as $$ begin raise exception 'sessions are read-only here'; end $$;
      create trigger refuse_session_writes before update on sessions for each row execute function refuse_session_writes()`))
    try {
      const run = await deputy(['keys', 'rewrap'], { DATABASE_URL: test.url, DEPUTY_MASTER_KEY: `${k2},${k1}` })
      expect(run.code).toBe(1)
      expect(run.stderr).toContain('update "sessions"')
      expect(run.stderr).toContain('sessions are read-only here')
      expect(run.stdout + run.stderr).not.toContain(sealed)
      expect(run.stdout + run.stderr).not.toMatch(/dk1\.k[0-9]\./)
    } finally {
      await db.execute(sql.raw('drop trigger refuse_session_writes on sessions; drop function refuse_session_writes()'))
    }
    expect((await rowOf(session.id)).sealedPrivateKey).toBe(sealed)
  })
})
