import { and, asc, count, eq, isNull, sql } from 'drizzle-orm'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { apiKeys, tenants } from '../../store/schema/index.js'
import { createApiKey, revokeApiKey } from '../auth/apiKeys.js'
import { ApiError, NotFoundError } from '../errors.js'
import { LIST_LIMIT_DEFAULT, errorResponses, idempotencyHeader, isoTime, listLimit, uuid } from '../schemas/common.js'
import { type RouteOptions, adminSecurity } from './context.js'

const Tenant = z.object({ id: uuid, name: z.string(), createdAt: isoTime, activeKeys: z.number().int() }).meta({ id: 'Tenant' })
const CreatedKey = z.object({
  id: uuid, tenantId: uuid, label: z.string().nullable(),
  key: z.string().describe('the API key; shown once, only its SHA-256 is stored'),
}).meta({ id: 'CreatedApiKey' })
const label = z.string().min(1, 'must not be empty').max(100, 'must be at most 100 characters')

export const adminRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const { db } = deps.runtime
  const tags = ['admin']

  app.post('/tenants', {
    config: { idempotencySecret: true },
    schema: {
      summary: 'Create a tenant and its first API key', tags, security: adminSecurity, headers: idempotencyHeader,
      body: z.strictObject({ name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'), keyLabel: label.optional() }),
      response: { 201: z.object({ tenant: Tenant, apiKey: CreatedKey }), ...errorResponses },
    },
  }, async (request, reply) => {
    // One transaction: a tenant is never stored without its first key.
    const { tenant, row, key } = await db.transaction(async (tx) => {
      const [created] = await tx.insert(tenants).values({ name: request.body.name }).onConflictDoNothing().returning()
      if (!created) throw new ApiError(409, 'TENANT.EXISTS', 'a tenant with this name exists', { field: 'name', rule: 'must be unique' })
      return { tenant: created, ...await createApiKey(tx, { tenantId: created.id, label: request.body.keyLabel }) }
    })
    return reply.code(201).send({
      tenant: { id: tenant.id, name: tenant.name, createdAt: tenant.createdAt.toISOString(), activeKeys: 1 },
      apiKey: { id: row.id, tenantId: tenant.id, label: row.label, key },
    })
  })

  app.get('/tenants', {
    schema: {
      summary: 'The tenants, oldest first', tags, security: adminSecurity, querystring: z.strictObject({ limit: listLimit, after: uuid.optional().describe('only tenants created after this one (the last of the previous page)') }),
      response: { 200: z.object({ tenants: z.array(Tenant) }), ...errorResponses },
    },
  }, async (request) => {
    const { after } = request.query
    if (after && !(await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, after))).length) {
      throw new ApiError(422, 'CORE.VALIDATION', 'after: no such tenant', { field: 'after', rule: 'must name a tenant' })
    }
    const rows = await db.select({ tenant: tenants, activeKeys: count(apiKeys.id) }).from(tenants)
      .leftJoin(apiKeys, and(eq(apiKeys.tenantId, tenants.id), isNull(apiKeys.revokedAt))).where(after ? sql`(${tenants.createdAt}, ${tenants.id}) > (select created_at, id from tenants where id = ${after})` : undefined)
      .groupBy(tenants.id).orderBy(asc(tenants.createdAt), asc(tenants.id)).limit(request.query.limit ?? LIST_LIMIT_DEFAULT)
    return { tenants: rows.map(({ tenant, activeKeys }) => ({ id: tenant.id, name: tenant.name, createdAt: tenant.createdAt.toISOString(), activeKeys })) }
  })

  app.post('/tenants/:tenantId/keys', {
    config: { idempotencySecret: true },
    schema: {
      summary: 'Create another API key for a tenant (key rotation)', tags, security: adminSecurity, headers: idempotencyHeader,
      params: z.strictObject({ tenantId: uuid }), body: z.strictObject({ label: label.optional() }).optional(), response: { 201: CreatedKey, ...errorResponses },
    },
  }, async (request, reply) => {
    const [tenant] = await db.select().from(tenants).where(eq(tenants.id, request.params.tenantId))
    if (!tenant) throw new NotFoundError('tenant', 'tenantId', 'must name a tenant')
    const { row, key } = await createApiKey(db, { tenantId: tenant.id, label: request.body?.label })
    return reply.code(201).send({ id: row.id, tenantId: tenant.id, label: row.label, key })
  })

  app.post('/keys/:keyId/revoke', {
    schema: {
      summary: 'Revoke an API key', tags, security: adminSecurity, headers: idempotencyHeader, params: z.strictObject({ keyId: uuid }), body: z.strictObject({}).optional(),
      response: { 200: z.object({ id: uuid, revokedAt: isoTime }), ...errorResponses },
    },
  }, async (request) => {
    const row = await revokeApiKey(db, request.params.keyId, new Date(deps.runtime.now()))
    if (!row) throw new NotFoundError('unrevoked API key', 'keyId', 'must name an API key that is not revoked')
    return { id: row.id, revokedAt: row.revokedAt!.toISOString() }
  })
}
