import { eq } from 'drizzle-orm'
import type { FastifyRequest } from 'fastify'
import type { Db } from '../../store/Database.js'
import { apiKeys } from '../../store/schema/index.js'
import { UnauthorizedError } from '../errors.js'
import { adminTokenMatches, verifyApiKey } from './apiKeys.js'
import { presentedToken } from './credentials.js'
import { type TokenGuard, unguarded } from './tokenFailureGuard.js'

/** Who is calling: a tenant (by API key) or the operator of the deployment (admin token). */
export type Principal = { kind: 'tenant'; tenantId: string; keyId: string } | { kind: 'admin' }

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal
  }
}

const TENANT_CHALLENGE = 'Bearer realm="deputy"'
const ADMIN_CHALLENGE = 'Basic realm="deputy-admin", charset="UTF-8"'
const METRICS_CHALLENGE = 'Bearer realm="deputy-metrics"'
const LAST_USED_EVERY_MS = 60_000

/** `onRequest` hook for tenant routes: a valid, unrevoked API key, or 401. */
export function tenantAuthentication(db: Db, now: () => number) {
  const lastUsedWritten = new Map<string, number>()
  return async (request: FastifyRequest): Promise<void> => {
    const presented = presentedToken(request.headers.authorization)
    if (!presented || presented.scheme !== 'bearer') throw new UnauthorizedError('send "Authorization: Bearer <API key>"', TENANT_CHALLENGE)
    const row = await verifyApiKey(db, presented.token)
    if (!row) throw new UnauthorizedError('the API key is unknown or revoked', TENANT_CHALLENGE)
    request.principal = { kind: 'tenant', tenantId: row.tenantId, keyId: row.id }
    // Write last_used_at at most once a minute per key: a write per request would be waste.
    const at = now()
    if (at - (lastUsedWritten.get(row.id) ?? 0) >= LAST_USED_EVERY_MS) {
      lastUsedWritten.set(row.id, at)
      await db.update(apiKeys).set({ lastUsedAt: new Date(at) }).where(eq(apiKeys.id, row.id))
    }
  }
}

/**
 * `onRequest` hook for admin routes and Bull Board: the admin token as Bearer, or as the Basic
 * password, its failures counted by `guard`. Unset, every request is refused, and not counted: there
 * is no token to guess.
 */
export function adminAuthentication(adminToken: string | undefined, guard: TokenGuard = unguarded) {
  if (!adminToken) return async (): Promise<void> => { throw new UnauthorizedError('admin is disabled: set ADMIN_TOKEN to enable it', ADMIN_CHALLENGE) }
  return guard((request) => {
    const presented = presentedToken(request.headers.authorization)
    if (!presented || !adminTokenMatches(adminToken, presented.token)) throw new UnauthorizedError('admin token required', ADMIN_CHALLENGE)
    request.principal = { kind: 'admin' }
  })
}

/** The calling tenant's id; routes behind `tenantAuthentication` always have one. */
export function tenantOf(request: FastifyRequest): string {
  if (request.principal?.kind !== 'tenant') throw new UnauthorizedError('a tenant API key is required', TENANT_CHALLENGE)
  return request.principal.tenantId
}

/**
 * `onRequest` hook for GET /metrics: with METRICS_TOKEN set, that token as Bearer (what Prometheus'
 * `authorization` scrape setting sends), or 401; unset, open. Each scrape reads Postgres and Redis:
 * an API reachable from outside should not let anybody make it do so. Failures are counted by `guard`.
 */
export function metricsAuthentication(metricsToken: string | undefined, guard: TokenGuard = unguarded) {
  if (!metricsToken) return async (): Promise<void> => {}
  return guard((request) => {
    const presented = presentedToken(request.headers.authorization)
    if (presented?.scheme !== 'bearer' || !adminTokenMatches(metricsToken, presented.token)) throw new UnauthorizedError('send "Authorization: Bearer <METRICS_TOKEN>"', METRICS_CHALLENGE)
  })
}
