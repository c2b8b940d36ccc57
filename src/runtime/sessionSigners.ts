import { and, eq, gt, inArray } from 'drizzle-orm'
import type { Address, Hex } from 'viem'
import type { AclAction } from '../core/acl/actions.js'
import type { OperatorDomain } from '../core/eip712/types.js'
import type { SessionKey } from '../keys/SessionKey.js'
import type { Keyring } from '../keys/Keyring.js'
import type { SessionKeyIntegrityError } from '../keys/errors.js'
import { signRead } from '../keys/signRead.js'
import type { Db } from '../store/Database.js'
import { type SessionRow, sessions, wallets } from '../store/schema/index.js'
import type { ReadAuth } from '../venue/types.js'
import { sealedKeyIntegrity } from './sessions/sealedKeyIntegrity.js'
import { unsealSessionKey } from './sessions/sealedSessionKey.js'

/** Nothing is signed with a delegation that expires within this many seconds. */
export const SIGNING_MARGIN_SECONDS = 15

/** An active session, unsealed and ready to sign. Never logged: its key redacts itself. */
export type ActiveSession = {
  id: string
  walletId: string
  wallet: Address
  publicKey: Hex
  aclScope: readonly AclAction[]
  expiryUnix: number
  delegationHash: Hex
  payload: Hex
  key: SessionKey
}

/**
 * Finds and unseals a wallet's active session. Unsealed keys are cached per
 * session id (AES-GCM per request would be waste); the cache forgets a session
 * as soon as this process ends it, and at the next `prune` when another did.
 *
 * `onKeyIntegrity`: an active session whose stored key is found not to be the delegated one (it
 * unseals to another key than its public key, it is corrupt, or it is another session's:
 * `sealedKeyIntegrity`) is handed to it with the problem (the worker quarantines it:
 * `quarantineKeyIntegrity`), and `active` answers no session, as for a wallet without one, so its
 * work waits for a new session instead of failing to unseal on every retry. Without it, `active`
 * throws the unseal's error. Any other unseal failure (a master key the keyring lacks, or one that
 * does not open the row, which the keyring cannot tell from a configuration problem) is thrown.
 */
export function createSessionSigners(options: {
  db: Db; keyring: Keyring; domain: OperatorDomain; now: () => number; readDeadlineMs?: number
  onKeyIntegrity?: (session: SessionRow, problem: SessionKeyIntegrityError) => Promise<unknown>
}) {
  const cache = new Map<string, ActiveSession>()
  const unsealed = (row: SessionRow, wallet: Address): ActiveSession => cache.get(row.id) ?? {
    id: row.id, walletId: row.walletId, wallet, publicKey: row.publicKey as Hex, aclScope: row.aclScope,
    expiryUnix: row.expiryUnix, delegationHash: row.delegationHash as Hex, payload: row.delegatedPayload as Hex,
    key: unsealSessionKey(options.keyring, row),
  }
  const toActive = (row: SessionRow, wallet: Address): ActiveSession => {
    const active = unsealed(row, wallet)
    cache.set(row.id, active)
    return active
  }
  /** Headers that authenticate a read with this session (PROTOCOL.md §6). */
  const readAuth = (session: ActiveSession): ReadAuth => () => {
    const deadline = BigInt(Math.floor(options.now()) + (options.readDeadlineMs ?? 30_000))
    const { signature } = signRead(session.key, options.domain, { delegation: session.delegationHash, deadline })
    return { 'x-delegation': session.payload, 'x-read-deadline': deadline.toString(), 'x-read-signature': signature }
  }
  return {
    /**
     * The wallet's active session that stays valid for at least `marginSeconds`.
     * Nothing is ever signed with a delegation that has expired or is about to, nor with a stored
     * key that is not the session's (`onKeyIntegrity`).
     */
    async active(walletId: string, marginSeconds = SIGNING_MARGIN_SECONDS): Promise<ActiveSession | undefined> {
      const minExpiry = Math.floor(options.now() / 1000) + marginSeconds
      const [row] = await options.db
        .select({ session: sessions, address: wallets.address })
        .from(sessions)
        .innerJoin(wallets, eq(wallets.id, sessions.walletId))
        .where(and(eq(sessions.walletId, walletId), eq(sessions.status, 'active'), gt(sessions.expiryUnix, minExpiry)))
        .limit(1)
      if (!row) return undefined
      try {
        return toActive(row.session, row.address as Address)
      } catch (error) {
        if (!options.onKeyIntegrity) throw error
        const problem = await sealedKeyIntegrity(options.db, options.keyring, row.session, error)
        if (!problem) throw error
        // Nothing is signed with it: never cached, and the caller finds no active session.
        await options.onKeyIntegrity(row.session, problem)
        return undefined
      }
    },
    /** The session, when this process already unsealed it (the batched Order path's claim names it). */
    unsealed(sessionId: string): ActiveSession | undefined {
      return cache.get(sessionId)
    },
    forget(sessionId: string): void {
      cache.delete(sessionId)
    },
    /**
     * Forgets the cached sessions that are no longer active and unexpired in Postgres, and answers
     * how many. The process that rotates or revokes a session forgets it at once; every other
     * process (a second worker, when the API or another worker ended it) learns it here, so the
     * unsealed key does not stay in its memory for the life of the process.
     */
    async prune(): Promise<number> {
      if (cache.size === 0) return 0
      const ids = [...cache.keys()]
      const live = await options.db.select({ id: sessions.id }).from(sessions)
        .where(and(inArray(sessions.id, ids), eq(sessions.status, 'active'), gt(sessions.expiryUnix, Math.floor(options.now() / 1000))))
      const keep = new Set(live.map((row) => row.id))
      const gone = ids.filter((id) => !keep.has(id))
      for (const id of gone) cache.delete(id)
      return gone.length
    },
    readAuth,
    /**
     * Read headers for any delegated session of a wallet, active or not (unsealed for the read, not
     * kept): asking the operator whether that session still stands.
     */
    readAuthOf(row: SessionRow, wallet: Address): ReadAuth {
      return readAuth(unsealed(row, wallet))
    },
  }
}
export type SessionSigners = ReturnType<typeof createSessionSigners>
