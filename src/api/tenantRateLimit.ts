import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { tenantOf } from './auth/authenticate.js'
import { ApiError } from './errors.js'

/**
 * Routes that only take risk off (halt, compromise, cancels, a session's revocation, a schedule's
 * pause or deletion): never refused for the rate, nor counted. A tenant whose runaway client used
 * up its minute must still be able to stop trading.
 */
export const RISK_REDUCING_ROUTES: ReadonlySet<string> = new Set([
  'POST /v1/wallets/:walletId/halt',
  'POST /v1/wallets/:walletId/compromise',
  'POST /v1/orders/:orderId/cancel',
  'POST /v1/wallets/:walletId/cancel-all',
  'POST /v1/sessions/:sessionId/revoke',
  'POST /v1/schedules/:scheduleId/pause',
  'DELETE /v1/schedules/:scheduleId',
])

/** Tenants counted at once; past it the least recently seen one's count starts again. */
const TENANTS_COUNTED = 10_000

/** Method and route: another method on the same path (an un-halt as DELETE …/halt, say) is counted. */
const isRiskReducing = (request: FastifyRequest): boolean => RISK_REDUCING_ROUTES.has(`${request.method} ${request.routeOptions.url ?? ''}`)

/**
 * Limits each tenant of `scope` (the `/v1` routes, after their API key is checked) to `perMinute`
 * requests in a fixed minute window (`@fastify/rate-limit`, counted in this API process); one more
 * is refused 429 `API.RATE_LIMITED` with Retry-After (seconds left in the window) before its body is
 * read or anything is stored, and an Idempotency-Key it carried stays free for the retry. The
 * risk-reducing routes (`RISK_REDUCING_ROUTES`) are neither refused nor counted. `perMinute` 0
 * limits nothing. One tenant's runaway client placing, modifying or reading cannot hold the API,
 * Postgres and the worker's queues from every other tenant's work; a loop on the risk-reducing routes
 * still can, a cost taken so that stopping is never refused.
 */
export async function tenantRateLimit(scope: FastifyInstance, perMinute: number): Promise<void> {
  if (perMinute === 0) return
  await scope.register(fastifyRateLimit, {
    max: perMinute,
    timeWindow: 60_000,
    hook: 'onRequest',
    cache: TENANTS_COUNTED,
    keyGenerator: (request) => tenantOf(request),
    allowList: (request) => isRiskReducing(request),
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000))
      return new ApiError(429, 'API.RATE_LIMITED', `this tenant's API keys made ${context.max} requests in this minute; retry in ${seconds} s`, {
        field: 'authorization',
        rule: `at most ${context.max} requests a minute per tenant (halts, cancels, revocations and schedule pauses and deletions are not counted)`,
        headers: { 'retry-after': String(seconds) },
        retryable: true,
      })
    },
  })
}
