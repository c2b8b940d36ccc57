import { and, eq, inArray } from 'drizzle-orm'
import type { Address } from 'viem'
import { VenueError } from '../../core/errors/venue.js'
import { lockWallet } from '../../store/repositories/lockWallet.js'
import { recordSessionsEnded } from '../../store/repositories/recordSessionsEnded.js'
import { sessions, wallets } from '../../store/schema/index.js'
import type { VenueEvent } from '../../venue/types.js'
import type { WorkerDeps } from '../deps.js'

/**
 * A session ended at the operator (revoked behind the worker's back, or expired) and the wallet
 * has no other: ask for a replacement now, as a refused request does. A rotation's own revocation
 * of the old session (a new one is active) and a compromise (the wallet is halted) ask nothing.
 */
export async function sessionEndedAtOperator(deps: WorkerDeps, walletId: string, event: VenueEvent): Promise<void> {
  const delegation = event.data?.delegation
  const named = typeof delegation === 'string'
    ? await deps.db.select({ id: sessions.id }).from(sessions).where(and(eq(sessions.walletId, walletId), eq(sessions.delegationHash, delegation.toLowerCase())))
    : []
  const endedIds = named.length ? named.map(({ id }) => id) : await askWhichEnded(deps, walletId, event)
  const [endedId] = endedIds
  if (endedId === undefined) return
  for (const id of endedIds) deps.sessions.forget(id)
  const waiting = await deps.db.transaction(async (tx) => {
    // Locked as a grant's activation locks it, so a session granted meanwhile is seen here.
    const wallet = await lockWallet(tx, walletId)
    const [active] = await tx.select({ id: sessions.id }).from(sessions).where(and(eq(sessions.walletId, walletId), eq(sessions.status, 'active'))).limit(1)
    if (!wallet || active || wallet.status === 'halted') return false
    if (wallet.status === 'active') await tx.update(wallets).set({ status: 'awaiting_delegation' }).where(eq(wallets.id, walletId))
    return true
  })
  if (waiting) await deps.onSessionInvalid?.(walletId, endedId, `operator event ${event.type}`)
}

/**
 * PROTOCOL.md §7's SessionRevoked and SessionExpired carry no fields, so an operator may not say
 * which session ended (the sandbox adds `data.delegation`; applyEvent uses it). Then each of the
 * wallet's signing sessions is asked with a read, which any unexpired, unrevoked delegation may
 * make (§6): one answered SessionUnauthorized has ended, and is recorded as a named one would be
 * (as expired once its expiry has passed, else as revoked).
 * Any other answer leaves a session as it is (a signed request refused 401 ends it then).
 */
async function askWhichEnded(deps: WorkerDeps, walletId: string, event: VenueEvent): Promise<string[]> {
  const candidates = await deps.db.select({ session: sessions, address: wallets.address }).from(sessions)
    .innerJoin(wallets, eq(wallets.id, sessions.walletId))
    .where(and(eq(sessions.walletId, walletId), inArray(sessions.status, ['active', 'rotating', 'delegated'])))
  const refused: (typeof candidates)[number]['session'][] = []
  for (const { session, address } of candidates) {
    if (!session.delegatedPayload || !session.delegationHash) continue
    try {
      await deps.venue.balances(deps.sessions.readAuthOf(session, address as Address))
    } catch (error) {
      if (error instanceof VenueError && error.venueCode === 'SessionUnauthorized') refused.push(session)
      else deps.log.warn({ walletId, sessionId: session.id, err: error }, 'could not ask the operator whether a session ended')
    }
  }
  // Each as what ended it, whichever event asked: expired when its expiry has passed on the
  // operator's clock, revoked otherwise.
  const expiredBy = deps.operatorNow() / 1000
  const byType = (['SessionExpired', 'SessionRevoked'] as const).map((type) => ({
    type, ids: refused.filter((session) => (session.expiryUnix <= expiredBy) === (type === 'SessionExpired')).map((session) => session.id),
  })).filter(({ ids }) => ids.length)
  if (!byType.length) return []
  return deps.db.transaction(async (tx) => {
    const ended: string[] = []
    for (const { type, ids } of byType) ended.push(...await recordSessionsEnded(tx, walletId, inArray(sessions.id, ids), { type, at: event.at, seq: event.seq }, new Date(deps.now())))
    return ended
  })
}
