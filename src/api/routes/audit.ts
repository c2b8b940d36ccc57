import { type SQL, and, desc, eq, lt } from 'drizzle-orm'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { auditLog } from '../../store/schema/index.js'
import { tenantOf } from '../auth/authenticate.js'
import { ownedWallet } from '../ownership.js'
import { LIST_LIMIT_DEFAULT, errorResponses, listLimit, walletParams } from '../schemas/common.js'
import { AuditPage } from '../schemas/resources.js'
import { type RouteOptions, tenantSecurity } from './context.js'

const AuditQuery = z.strictObject({
  limit: listLimit,
  before: z.string().regex(/^[1-9]\d{0,14}$/, 'must be an entry id (a positive integer), e.g. the nextBefore of the previous page').optional(),
  action: z.string().min(1, 'must not be empty').max(100, 'must be at most 100 characters').optional().describe('only entries of this action, e.g. session.revoked'),
  actor: z.string().min(1, 'must not be empty').max(50, 'must be at most 50 characters').optional().describe('only entries by this actor: worker, reconciler, api, scheduler'),
})

export const auditRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const { db } = deps.runtime

  app.get('/wallets/:walletId/audit', {
    schema: {
      summary: "A wallet's audit trail, newest first: session grants, rotations and revocations, the reconciler's repairs, refusals, halts", tags: ['wallets'],
      security: tenantSecurity, params: walletParams, querystring: AuditQuery,
      response: { 200: AuditPage, ...errorResponses },
    },
  }, async (request) => {
    const wallet = await ownedWallet(db, tenantOf(request), request.params.walletId)
    const { limit = LIST_LIMIT_DEFAULT, before, action, actor } = request.query
    const conditions: SQL[] = [eq(auditLog.walletId, wallet.id)]
    if (before) conditions.push(lt(auditLog.id, Number(before)))
    if (action) conditions.push(eq(auditLog.action, action))
    if (actor) conditions.push(eq(auditLog.actor, actor))
    // One more than the page: whether an older page exists.
    const rows = await db.select().from(auditLog).where(and(...conditions)).orderBy(desc(auditLog.id)).limit(limit + 1)
    const page = rows.slice(0, limit)
    return {
      entries: page.map((row) => ({ id: String(row.id), at: row.at.toISOString(), actor: row.actor, action: row.action, details: row.details })),
      nextBefore: rows.length > limit ? String(page[page.length - 1]!.id) : null,
    }
  })
}
