import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ApiDeps } from '../ApiDeps.js'
import { type CheckFailed, type CheckResult, checkDependency, pingPostgres, pingRedis } from '../../runtime/health/checkDependency.js'
import { DEPENDENCY_DEADLINE_MS } from '../../runtime/withinDeadline.js'
import type { RouteOptions } from './context.js'

/**
 * Each dependency the API works with. Postgres and Redis decide readiness: without them the API can
 * take no order, cancel or halt. The operator is reported, not required: intake, cancels and the
 * kill switch queue work for the workers, which wait for the operator themselves; and since every
 * replica shares it, an operator outage counted here would take every replica out of its load
 * balancer exactly when users want to halt or cancel.
 */
export async function readiness(deps: ApiDeps, failed: CheckFailed): Promise<Record<'postgres' | 'redis' | 'operator', CheckResult>> {
  const [postgres, redis, operator] = await Promise.all([
    checkDependency('postgres', pingPostgres(deps.runtime.db), failed, 'API'),
    checkDependency('redis', pingRedis(deps.submitQueue), failed, 'API'),
    checkDependency('operator', async () => {
      // The request's own timeout comes after the deadline, which answers first: a silent operator
      // reads "no answer", not "failed". It still frees the connection soon after.
      const response = await fetch(new URL('/v1/info', deps.runtime.venue.baseUrl), { signal: AbortSignal.timeout(DEPENDENCY_DEADLINE_MS + 1_000) })
      if (!response.ok) throw new Error(`GET /v1/info answered HTTP ${response.status}`)
      await response.json()
    }, failed, 'API'),
  ])
  return { postgres, redis, operator }
}

const Check = z.object({ ok: z.boolean(), detail: z.string() })
const Ready = z.object({ status: z.enum(['ready', 'unavailable']), checks: z.object({ postgres: Check, redis: Check, operator: Check }) })

export const healthRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  app.get('/healthz', {
    schema: { summary: 'Liveness: the process answers', tags: ['operations'], response: { 200: z.object({ status: z.literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: { summary: 'Readiness: Postgres and Redis answer (503 otherwise); the operator (/v1/info) is reported, not required', tags: ['operations'], response: { 200: Ready, 503: Ready } },
  }, async (request, reply) => {
    const checks = await readiness(deps, (dependency, err) => request.log.warn({ err, dependency }, 'readiness check failed'))
    const ready = checks.postgres.ok && checks.redis.ok
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks })
  })
}
