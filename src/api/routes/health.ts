import { sql } from 'drizzle-orm'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ApiDeps } from '../ApiDeps.js'
import { DEPENDENCY_DEADLINE_MS, withinDeadline } from '../withinDeadline.js'
import type { RouteOptions } from './context.js'
import { errorMessage } from '../../core/errors/errorMessage.js'

type CheckResult = { ok: boolean; detail: string }

async function timed(check: () => Promise<unknown>): Promise<CheckResult> {
  try {
    await withinDeadline(check())
    return { ok: true, detail: 'ok' }
  } catch (error) {
    return { ok: false, detail: errorMessage(error) }
  }
}

/** Each dependency the API needs to do useful work. */
export async function readiness(deps: ApiDeps): Promise<Record<'postgres' | 'redis' | 'operator', CheckResult>> {
  const [postgres, redis, operator] = await Promise.all([
    timed(() => deps.runtime.db.execute(sql`select 1`)),
    timed(() => deps.submitQueue.getJobCounts('waiting')),
    timed(async () => {
      const response = await fetch(new URL('/v1/info', deps.runtime.venue.baseUrl), { signal: AbortSignal.timeout(DEPENDENCY_DEADLINE_MS) })
      if (!response.ok) throw new Error(`GET /v1/info answered HTTP ${response.status}`)
      await response.json()
    }),
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
    schema: { summary: 'Readiness: Postgres, Redis and the operator (/v1/info) answer; 503 otherwise', tags: ['operations'], response: { 200: Ready, 503: Ready } },
  }, async (_request, reply) => {
    const checks = await readiness(deps)
    const ready = Object.values(checks).every((check) => check.ok)
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks })
  })
}
