import { type SQL, and, desc, eq, inArray, sql } from 'drizzle-orm'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { grantSession } from '../../runtime/sessions/grantSession.js'
import { revokeAtOperator } from '../../runtime/sessions/revokeAtOperator.js'
import { rotateSession } from '../../runtime/sessions/rotateSession.js'
import type { WalletSigner } from '../../signers/WalletSigner.js'
import { type WalletRow, sessionStatuses, sessions } from '../../store/schema/index.js'
import type { ApiDeps } from '../ApiDeps.js'
import { tenantOf } from '../auth/authenticate.js'
import { ApiError, NotFoundError } from '../errors.js'
import { ownedSession, ownedWallet } from '../ownership.js'
import { presentSession } from '../present.js'
import { LIST_LIMIT_DEFAULT, errorResponses, families, idempotencyHeader, listLimit, sessionParams, uuid, walletParams } from '../schemas/common.js'
import { Session } from '../schemas/resources.js'
import { familiesFor } from '../../core/acl/familiesFor.js'
import { ValidationError } from '../../core/errors/ValidationError.js'
import { defaultSessionFamilies } from '../../runtime/sessions/defaultSessionFamilies.js'
import { type RouteOptions, relayNow, tenantSecurity } from './context.js'
import { MAX_SESSION_LIFETIME_RULE, MAX_SESSION_LIFETIME_SECONDS, MIN_SESSION_LIFETIME_RULE, MIN_SESSION_LIFETIME_SECONDS, shortestLifetimeSeconds } from '../../core/sessions/lifetimeBounds.js'

const SessionRequest = z.strictObject({
  families: z.array(z.enum(families)).min(1, 'must name at least one family')
    // Nothing could stop what such a session places: no user cancel, no good-till expiry, no kill switch.
    .refine((named) => !named.some((f) => f === 'Order' || f === 'ModifyOrder') || named.some((f) => f === 'CancelOrder' || f === 'CancelAll'),
      'must include CancelOrder or CancelAll with Order or ModifyOrder: a session that places or changes orders must be able to cancel them')
    .optional()
    .describe('Request families the session may sign, exactly; without it the narrowest scope covering `needs` is asked for (rotation: the current scope)'),
  needs: z.strictObject({
    limitOrders: z.boolean().optional(), modifications: z.boolean().optional(), schedules: z.boolean().optional(), killSwitch: z.boolean().optional(),
  }).refine((needs) => Object.values(needs).some(Boolean), 'must set at least one of limitOrders, modifications, schedules, killSwitch to true').optional().describe('What the automation does. Default: limit orders (place, cancel, good-till) and the kill switch, plus schedules when the wallet has any, plus the families of work already queued for the wallet (rotation: the current scope). Modifying orders needs `modifications: true`'),
  unrestricted: z.boolean().optional().describe('Ask for the "Unrestricted" scope instead of the narrowest one'),
  lifetimeSeconds: z.number().int('must be an integer').min(MIN_SESSION_LIFETIME_SECONDS, MIN_SESSION_LIFETIME_RULE).max(MAX_SESSION_LIFETIME_SECONDS, MAX_SESSION_LIFETIME_RULE).optional()
    .describe('Default SESSION_LIFETIME_SECONDS (rotation: the current session\'s). At least twice SESSION_ROTATE_LEAD_SECONDS; automatic rotations keep it'),
})

const Granted = z.object({ session: Session, replaced: z.array(z.string()) })

/**
 * A session shorter than twice the worker's rotation lead would be due for rotation as soon as it
 * went live, and its replacement would be as short: refused, naming the rule (SESSION_LIFETIME_SECONDS
 * obeys the same one).
 */
function checkLifetime(lifetimeSeconds: number | undefined, rotateLeadSeconds: number): void {
  if (lifetimeSeconds !== undefined && lifetimeSeconds < shortestLifetimeSeconds(rotateLeadSeconds)) {
    throw new ValidationError('lifetimeSeconds', `must be at least ${shortestLifetimeSeconds(rotateLeadSeconds)}: twice SESSION_ROTATE_LEAD_SECONDS (${rotateLeadSeconds}), the time before expiry at which the worker replaces a session`)
  }
}

function signerOf(deps: ApiDeps, wallet: WalletRow): WalletSigner {
  const signer = deps.walletSigners.signerFor(wallet)
  if (!signer) {
    throw new ApiError(409, 'SESSION.NO_WALLET_SIGNER', 'this process holds no signer for the wallet, so it cannot get a Delegation signed', {
      field: 'walletId', rule: 'must be a wallet this API can sign Delegations for (generated here, in DEV_WALLET_KEYS, or reachable through the custody signer)',
    })
  }
  return signer
}

export const sessionRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const { db } = deps.runtime
  const lifetime = deps.sessionLifetimeSeconds ?? 7 * 24 * 3600
  const rotateLead = deps.sessionRotateLeadSeconds ?? 6 * 3600
  const tags = ['sessions']

  app.post('/wallets/:walletId/sessions', {
    schema: {
      summary: 'Grant a session: new key, Delegation signed by the wallet, pre-live checks, activation', tags, security: tenantSecurity,
      headers: idempotencyHeader, params: walletParams, body: SessionRequest, response: { 201: Granted, ...errorResponses },
    },
  }, async (request, reply) => {
    checkLifetime(request.body.lifetimeSeconds, rotateLead)
    // The tenant is checked again in the grant's transaction: the wallet may have been retired since (a takeover by proof of ownership).
    const wallet = await ownedWallet(db, tenantOf(request), request.params.walletId)
    const { session, previous } = await grantSession({
      db, keyring: deps.keyring, domain: deps.runtime.domain, operatorDomain: deps.runtime.operatorDomain, walletSigner: signerOf(deps, wallet), walletId: wallet.id, tenantId: tenantOf(request),
      families: request.body.families ?? (request.body.needs ? familiesFor(request.body.needs) : await defaultSessionFamilies(db, wallet.id)), unrestricted: request.body.unrestricted,
      // A scope named (families, needs or Unrestricted) is the user's choice, which the worker's rotations keep; the default is not.
      ...(request.body.families || request.body.needs || request.body.unrestricted ? {} : { chosenScope: null }),
      // A scope that could not run the wallet's active schedule is refused, before the wallet signs and at activation.
      scheduleField: request.body.families ? 'families' : 'needs',
      lifetimeSeconds: request.body.lifetimeSeconds ?? lifetime, nowMs: deps.runtime.operatorNow(), clock: deps.runtime.now, probe: deps.probe,
    })
    for (const old of previous) deps.runtime.sessions.forget(old.id)
    await relayNow(deps) // work held for a session is released by the grant
    return reply.code(201).send({ session: presentSession(session, deps.runtime.operatorNow()), replaced: previous.map((p) => p.id) })
  })

  app.post('/wallets/:walletId/sessions/rotate', {
    schema: {
      summary: 'Rotate: a new session replaces the active one (which keeps finishing its signed requests, then is revoked)', tags, security: tenantSecurity,
      headers: idempotencyHeader, params: walletParams, body: SessionRequest, response: { 201: Granted, ...errorResponses },
    },
  }, async (request, reply) => {
    checkLifetime(request.body.lifetimeSeconds, rotateLead)
    const wallet = await ownedWallet(db, tenantOf(request), request.params.walletId)
    const { session, previous } = await rotateSession({
      deps: deps.runtime, keyring: deps.keyring, walletSigner: signerOf(deps, wallet), walletId: wallet.id, tenantId: tenantOf(request), reason: 'onDemand',
      // Without `families` or `needs` the rotation keeps the current scope, and the choice recorded with it.
      families: request.body.families ?? (request.body.needs ? familiesFor(request.body.needs) : undefined),
      // Without `lifetimeSeconds`, the current session's lifetime is kept.
      unrestricted: request.body.unrestricted, lifetimeSeconds: request.body.lifetimeSeconds ?? lifetime, probe: deps.probe,
      ...(request.body.lifetimeSeconds === undefined ? { keepLifetime: { minSeconds: shortestLifetimeSeconds(rotateLead) } } : {}),
      scheduleField: request.body.families ? 'families' : 'needs',
    })
    await relayNow(deps)
    return reply.code(201).send({ session: presentSession(session, deps.runtime.operatorNow()), replaced: previous.map((p) => p.id) })
  })

  app.post('/sessions/:sessionId/revoke', {
    schema: {
      summary: "Revoke a session at the operator (signed by the session key; a quarantined session's, or one whose stored key proves not to be the delegated one (then quarantined, KEY_INTEGRITY), by the wallet signer, 409 SESSION.WALLET_SIGNER_REQUIRED without one); the operator cancels the session's open orders", tags, security: tenantSecurity,
      headers: idempotencyHeader, params: sessionParams,
      body: z.strictObject({ reason: z.string().min(1, 'must not be empty').max(500, 'must be at most 500 characters').optional() }).optional(),
      response: { 200: Session, ...errorResponses },
    },
  }, async (request) => {
    const { session, wallet } = await ownedSession(db, tenantOf(request), request.params.sessionId)
    // Ended at the operator already (revoked there, or expired): answered as it is, nothing sent or written again.
    const ended = session.status === 'expired' || ((session.status === 'revoked' || session.status === 'quarantined') && session.revokedAt !== null)
    if (ended) return presentSession(session, deps.runtime.operatorNow())
    // A quarantined session's key is in doubt: the wallet signs its revocation.
    await revokeAtOperator(deps.runtime, deps.keyring, session, request.body?.reason ?? 'revoked through the API', deps.walletSigners.signerFor(wallet), tenantOf(request))
    const [row] = await db.select().from(sessions).where(eq(sessions.id, session.id))
    return presentSession(row!, deps.runtime.operatorNow())
  })

  app.get('/wallets/:walletId/sessions', {
    schema: {
      summary: "A wallet's sessions, newest first (`limit` at a time; `before`, the last one read, for the next page)", tags, security: tenantSecurity, params: walletParams,
      querystring: z.strictObject({
        status: z.enum(sessionStatuses).optional(), limit: listLimit,
        before: uuid.optional().describe("only sessions granted before this one of the wallet's (the last of the previous page)"),
      }),
      response: { 200: z.object({ sessions: z.array(Session) }), ...errorResponses },
    },
  }, async (request) => {
    const wallet = await ownedWallet(db, tenantOf(request), request.params.walletId)
    const statuses = request.query.status ? [request.query.status] : [...sessionStatuses]
    const conditions: SQL[] = [eq(sessions.walletId, wallet.id), inArray(sessions.status, statuses)]
    if (request.query.before) {
      // Newest first, so the next page is the sessions before the last one read (in the same order).
      const { session: mark } = await ownedSession(db, tenantOf(request), request.query.before, 'before')
      if (mark.walletId !== wallet.id) throw new NotFoundError('session', 'before')
      conditions.push(sql`(${sessions.createdAt}, ${sessions.id}) < (select created_at, id from sessions where id = ${mark.id})`)
    }
    const rows = await db.select().from(sessions).where(and(...conditions)).orderBy(desc(sessions.createdAt), desc(sessions.id)).limit(request.query.limit ?? LIST_LIMIT_DEFAULT)
    return { sessions: rows.map((row) => presentSession(row, deps.runtime.operatorNow())) }
  })

  app.get('/sessions/:sessionId', {
    schema: { summary: 'One session (status, scope, expiry)', tags, security: tenantSecurity, params: sessionParams, response: { 200: Session, ...errorResponses } },
  }, async (request) => presentSession((await ownedSession(db, tenantOf(request), request.params.sessionId)).session, deps.runtime.operatorNow()))
}
