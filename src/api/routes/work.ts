import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { tenantOf } from '../auth/authenticate.js'
import { loadWork } from '../loadWork.js'
import { ownedWork } from '../ownership.js'
import { errorResponses, uuid } from '../schemas/common.js'
import { Work } from '../schemas/resources.js'
import { type RouteOptions, tenantSecurity } from './context.js'

/**
 * What became of work the API queued (the `outboxId` of a 202): whether the operator accepted it,
 * and if not, why (refused, held for a session, or settled without a send, such as a modify that a
 * cancel overtook).
 */
export const workRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const { db } = deps.runtime
  app.get('/work/:outboxId', {
    schema: {
      summary: 'What became of queued work (a placement, modify, cancel or CancelAll): accepted, or why not', tags: ['orders'],
      description: 'Settled work is kept for RETENTION_DAYS (30 by default); after that the worker deletes it and this answers 404.', security: tenantSecurity,
      params: z.strictObject({ outboxId: uuid }), response: { 200: Work, ...errorResponses },
    },
  }, async (request) => {
    const [work] = await loadWork(db, [await ownedWork(db, tenantOf(request), request.params.outboxId)])
    return work!
  })
}
