import { and, desc, eq, isNotNull, sql } from 'drizzle-orm'
import type { RequestFamily } from '../../core/acl/actions.js'
import { requestFamilies } from '../../core/acl/actions.js'
import { uncovered } from '../../core/acl/covers.js'
import { narrowestScope } from '../../core/acl/narrowestScope.js'
import { routineScope } from '../../core/acl/routineScope.js'
import type { Keyring } from '../../keys/Keyring.js'
import type { WalletSigner } from '../../signers/WalletSigner.js'
import { type SessionRow, sessions } from '../../store/schema/index.js'
import type { WorkerDeps } from '../deps.js'
import { defaultSessionFamilies } from './defaultSessionFamilies.js'
import { type GrantSessionInput, grantSession } from './grantSession.js'

export type RotateSessionInput = {
  deps: WorkerDeps
  keyring: Keyring
  walletSigner: WalletSigner
  walletId: string
  reason: 'expiry' | 'scopeChange' | 'onDemand' | 'sessionUnauthorized'
  /**
   * A new scope the user chose (the API's `families` or `needs`), recorded as chosen
   * (`sessions.chosen_scope`); by default the current session's, or with `narrow` the narrowest
   * covering the wallet's work.
   */
  families?: readonly RequestFamily[]
  /**
   * Without `families` or `unrestricted` (session maintenance's rotations): ask for the narrowest
   * scope covering what the wallet's work needs now (`defaultSessionFamilies`, over the scope the
   * user chose instead of the default families when there is one), within the current scope, plus
   * `adding` (`routineScope`). A family the worker added for work since done is dropped; one the
   * user chose, or that queued or in-flight work needs, never is. Without it the current scope is
   * kept (the API's rotation naming no scope).
   */
  narrow?: boolean
  /**
   * Without `families`: families the new session covers beyond the current scope (work held that
   * the current session does not cover: a scope change). With `onlyIfExpiringBefore`, a wallet whose
   * active session does not cover them is rotated however long that session has left.
   */
  adding?: readonly RequestFamily[]
  /** The user asks for (true) or against (false) the Unrestricted scope: a choice, recorded as with `families`. */
  unrestricted?: boolean
  /** The new session's lifetime; with `keepLifetime`, only when the session replaced has none on record (or there is none). */
  lifetimeSeconds: number
  /**
   * Keep the lifetime the replaced session was granted for (a session granted for a day is replaced
   * by one of a day), but at least `minSeconds`: twice the rotation lead, or the new session would be
   * due for rotation as soon as it went live.
   */
  keepLifetime?: { minSeconds: number }
  /** The operator guide's live probe, run before the new session goes live (`createLiveProbe`). */
  probe?: GrantSessionInput['probe']
  /** Rotate only if the wallet still has no active session expiring later than this (unix s): another process may have just rotated it. */
  onlyIfExpiringBefore?: number
  /** With `families` (without them the rotation keeps or narrows the current scope, never below what the schedules need): refuse a scope that could not run the wallet's active schedule (`GrantSessionInput.scheduleField`). */
  scheduleField?: string
  /** The API's caller: the wallet must be that tenant's, checked in the grant's first transaction (`GrantSessionInput.tenantId`). */
  tenantId?: string
}

/**
 * Replaces the wallet's active session with a new one. New work signs with the
 * new key at once; requests already signed with the old key keep their bytes
 * and finish (the old session is `rotating`, not revoked). The caller revokes
 * the old session at the operator once in-flight requests are past their
 * deadlines (`revokeRotated`).
 */
export async function rotateSession(input: RotateSessionInput): Promise<{ session: SessionRow; previous: SessionRow[] }> {
  const { deps } = input
  // After a refusal or an expiry no session is active: the last one to go live sets the scope,
  // so a replacement never asks for more than the wallet granted before (but for `adding`).
  const lastLive = async () => (await deps.db.select().from(sessions)
    .where(and(eq(sessions.walletId, input.walletId), isNotNull(sessions.activatedAt)))
    .orderBy(sql`${sessions.status} = 'active' desc`, desc(sessions.activatedAt)).limit(1))[0]
  let current = await lastLive()
  // A wallet that never had a session gets the narrowest default, as the API's grant does. Read
  // before the check below, which is read again: a grant (the API's) that went live while the
  // defaults were read is seen, and this one is not made beside it.
  const defaults = !input.families && !current ? await defaultSessionFamilies(deps.db, input.walletId) : undefined
  if (defaults) current = await lastLive()
  const adding = input.families ? [] : input.adding ?? []
  if (input.onlyIfExpiringBefore !== undefined && current?.status === 'active' && current.expiryUnix >= input.onlyIfExpiringBefore && uncovered(current.aclScope, adding).length === 0) {
    return { session: current, previous: [] }
  }
  const explicit = input.families !== undefined || input.unrestricted !== undefined
  // The user's last choice is carried from session to session; a rotation naming a scope makes a new one.
  const carried = current?.chosenScope ?? null
  const currentUnrestricted = current?.aclScope.includes('Unrestricted') ?? false
  let families: readonly RequestFamily[]
  let unrestricted: boolean
  if (current && !explicit && input.narrow) {
    const chosenFamilies = carried?.filter((a): a is RequestFamily => a !== 'Unrestricted')
    const needed = await defaultSessionFamilies(deps.db, input.walletId, carried ? chosenFamilies : undefined)
    ;({ families, unrestricted } = routineScope({ current: current.aclScope, chosen: carried, needed, adding }))
  } else {
    const kept = input.families ?? (current
      ? (currentUnrestricted ? requestFamilies : current.aclScope.filter((a): a is RequestFamily => a !== 'Unrestricted'))
      : defaults!)
    families = adding.length ? requestFamilies.filter((family) => kept.includes(family) || adding.includes(family)) : kept
    unrestricted = input.unrestricted ?? (input.families ? false : currentUnrestricted)
  }
  // Asked against Unrestricted without naming families: a chosen Unrestricted is no longer the choice.
  const chosenScope = explicit && (input.families || unrestricted)
    ? narrowestScope({ families, unrestricted })
    : input.unrestricted === false && carried?.includes('Unrestricted') ? null : carried
  const keptLifetime = input.keepLifetime && current?.lifetimeSeconds ? Math.max(current.lifetimeSeconds, input.keepLifetime.minSeconds) : undefined
  const result = await grantSession({
    db: deps.db, keyring: input.keyring, domain: deps.domain, operatorDomain: deps.operatorDomain, walletSigner: input.walletSigner, walletId: input.walletId,
    probe: input.probe, families, unrestricted, chosenScope, reason: input.reason, ...(current ? { replacing: current } : {}), lifetimeSeconds: keptLifetime ?? input.lifetimeSeconds, nowMs: deps.operatorNow(), clock: deps.now,
    ...(input.families && input.scheduleField ? { scheduleField: input.scheduleField } : {}),
    tenantId: input.tenantId,
    ...(input.onlyIfExpiringBefore !== undefined ? { unlessActiveUntil: input.onlyIfExpiringBefore, unlessActiveCovers: adding } : {}),
  })
  if (!result.granted) {
    // Another grant went live after the check above: the wallet was asked for nothing.
    deps.log.debug({ walletId: input.walletId, session: result.session.id }, 'session rotation not needed: another grant went live')
    return { session: result.session, previous: [] }
  }
  for (const previous of result.previous) deps.sessions.forget(previous.id)
  deps.log.info({ walletId: input.walletId, reason: input.reason, session: result.session.id, scope: result.session.aclScope, replaced: result.previous.map((p) => p.id) }, 'session rotated')
  return { session: result.session, previous: result.previous }
}
