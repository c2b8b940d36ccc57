import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ApiDeps } from '../ApiDeps.js'
import { type CheckLog, type CheckResult, checkDependency, checkRedis, pingPostgres } from '../../runtime/health/checkDependency.js'
import { createCheckLog } from '../../runtime/health/checkLog.js'
import { freshShared } from '../../runtime/freshShared.js'
import { DEPENDENCY_DEADLINE_MS } from '../../runtime/withinDeadline.js'
import { domainChangedDetail, sameDomain } from '../../runtime/operatorDomain.js'
import type { OperatorDomain } from '../../core/eip712/types.js'
import type { RouteOptions } from './context.js'

/**
 * Each dependency the API works with. Postgres and Redis (every connection it works on, its two
 * queues': `deps.redisProbes`, each failing one named in the detail) decide readiness: without them
 * the API can take no order, cancel or halt. The operator is reported, not required: intake, cancels and the
 * kill switch queue work for the workers, which wait for the operator themselves; and since every
 * replica shares it, an operator outage counted here would take every replica out of its load
 * balancer exactly when users want to halt or cancel. So is its EIP-712 domain (`operatorDomain`):
 * the domain its /v1/info answers is compared with the one this process signs with, and handed to
 * the process's watch (`observe`), so that grants, rotations and revocations are refused while it
 * differs (503 OPERATOR.DOMAIN_CHANGED) and go on once it is back; unread (the operator silent),
 * what the process last saw.
 */
export async function readiness(deps: ApiDeps, log: CheckLog): Promise<Record<'postgres' | 'redis' | 'operator' | 'operatorDomain', CheckResult>> {
  let answered: OperatorDomain | undefined
  const [postgres, redis, operator] = await Promise.all([
    checkDependency('postgres', pingPostgres(deps.runtime.db), log, 'API'),
    checkRedis(deps.redisProbes, log, 'API'),
    checkDependency('operator', async () => {
      // The request's own timeout comes after the deadline, which answers first: a silent operator
      // reads "no answer", not "failed". It still frees the connection soon after.
      const response = await fetch(new URL('/v1/info', deps.runtime.venue.baseUrl), { signal: AbortSignal.timeout(DEPENDENCY_DEADLINE_MS + 1_000) })
      if (!response.ok) throw new Error(`GET /v1/info answered HTTP ${response.status}`)
      answered = domainIn(await response.json())
    }, log, 'API'),
  ])
  return { postgres, redis, operator, operatorDomain: domainCheck(deps, operator.ok ? answered : undefined) }
}

/** What the readiness check says of the operator's domain, given the one it answered (if read). */
function domainCheck(deps: ApiDeps, answered: OperatorDomain | undefined): CheckResult {
  const watch = deps.runtime.operatorDomain
  if (answered) {
    const change = watch ? watch.observe(answered) : sameDomain(answered, deps.runtime.domain) ? undefined : { from: deps.runtime.domain, to: answered }
    return change ? { ok: false, detail: domainChangedDetail(change) } : { ok: true, detail: 'ok' }
  }
  const known = watch?.changed()
  if (known) return { ok: false, detail: domainChangedDetail(known) }
  return { ok: true, detail: 'not read now (the operator did not answer); no change seen' }
}

/** The EIP-712 domain in a /v1/info answer, when it has one. */
function domainIn(info: unknown): OperatorDomain | undefined {
  const { name, version, chainId, verifyingContract } = (info ?? {}) as Record<string, unknown>
  if (typeof name !== 'string' || typeof version !== 'string' || typeof chainId !== 'number' || typeof verifyingContract !== 'string') return undefined
  return { name, version: version as OperatorDomain['version'], chainId, verifyingContract: verifyingContract as OperatorDomain['verifyingContract'] }
}

const Check = z.object({ ok: z.boolean(), detail: z.string() })
const Ready = z.object({ status: z.enum(['ready', 'unavailable']), checks: z.object({ postgres: Check, redis: Check, operator: Check, operatorDomain: Check }) })

export const healthRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  // A failing check is logged once when it starts failing and once when it passes again, not on
  // every probe of a supervisor (or load balancer) polling every few seconds.
  const checkLog = createCheckLog(app.log)
  // Unauthenticated, and each check pings Postgres and Redis and GETs the operator's /v1/info: the
  // probes arriving while one is under way share the next one, so a flood costs two checks at a time.
  const check = freshShared(() => readiness(deps, checkLog))
  app.get('/healthz', {
    schema: { summary: 'Liveness: the process answers', tags: ['operations'], response: { 200: z.object({ status: z.literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: { summary: 'Readiness: Postgres and each Redis connection of its queues answer (503 otherwise, naming each that failed); the operator (/v1/info) and whether its EIP-712 domain is still the one Deputy signs with are reported, not required', tags: ['operations'], response: { 200: Ready, 503: Ready } },
  }, async (request, reply) => {
    const checks = await check()
    const ready = checks.postgres.ok && checks.redis.ok
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks })
  })
}
