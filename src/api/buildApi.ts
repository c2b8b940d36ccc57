import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { createJsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { ApiDeps } from './ApiDeps.js'
import { adminAuthentication, metricsAuthentication, tenantAuthentication } from './auth/authenticate.js'
import { registerBullBoard } from './bullBoard.js'
import { errorHandler } from './errorHandler.js'
import { MAX_PARAM_LENGTH, NotFoundError } from './errors.js'
import { idempotency } from './idempotency.js'
import { refuseRepeatedJsonKeys } from './refuseRepeatedJsonKeys.js'
import { refuseUnstorableText } from './refuseUnstorableText.js'
import { tokenFailureGuard } from './auth/tokenFailureGuard.js'
import { DEFAULT_API_RATE_LIMIT_PER_MINUTE, DEFAULT_TOKEN_FAILURES_PER_MINUTE } from './defaultRateLimit.js'
import { tenantRateLimit } from './tenantRateLimit.js'
import { createMetrics } from './metrics/createMetrics.js'
import { adminRoutes } from './routes/admin.js'
import { auditRoutes } from './routes/audit.js'
import { healthRoutes } from './routes/health.js'
import { killSwitchRoutes } from './routes/killSwitch.js'
import { orderRoutes } from './routes/orders.js'
import { policyRoutes } from './routes/policy.js'
import { scheduleRoutes } from './routes/schedules.js'
import { sessionRoutes } from './routes/sessions.js'
import { statusRoutes } from './routes/status.js'
import { walletRoutes } from './routes/wallets.js'
import { workRoutes } from './routes/work.js'

export type BuildApiOptions = {
  /** Fastify's logger: the runtime's pino logger by default; false for none. */
  logger?: boolean
}

/**
 * The intake API as a Fastify instance (not listening): tenant routes under
 * `/v1` (API key), admin routes and Bull Board under `/admin` (admin token),
 * `/healthz`, `/readyz`, `/metrics`, `/openapi.json` and `/docs`. Request
 * bodies, queries and params are zod schemas, which also generate the OpenAPI
 * document. Call `listen()` on it, or `inject()` in tests.
 */
export async function buildApi(deps: ApiDeps, options: BuildApiOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger === false ? { logger: false } : { loggerInstance: deps.runtime.log as FastifyBaseLogger }),
    bodyLimit: 256 * 1024,
    ...(deps.trustProxy === undefined ? {} : { trustProxy: deps.trustProxy }),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A URL refused before routing (bad percent-encoding, a parameter too long) answers the same error shape.
    frameworkErrors: (error, request, reply) => { errorHandler(error, request, reply) },
  })
  // A request in flight when the API closes is answered with `Connection: close`, so Node ends its
  // connection after the answer: a kept-alive one held the close (and a stopping process) until the
  // client dropped it or the keep-alive timeout passed, past the shutdown budget.
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', async (_request, reply) => { if (closing) reply.header('connection', 'close') })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.setErrorHandler(errorHandler)
  app.addHook('preValidation', refuseUnstorableText)
  refuseRepeatedJsonKeys(app)
  // Every body is JSON: one sent as text/plain is refused 415 as any other type is, not read as a string
  // (Fastify's default), which its route's schema would refuse 400 as "must be an object".
  app.removeContentTypeParser('text/plain')
  app.setNotFoundHandler((request) => {
    throw new NotFoundError(`route ${request.method} ${request.url.split('?')[0]}`, 'url', "must name one of the API's routes (listed in /openapi.json)")
  })

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Deputy intake API',
        version: '1.0.0',
        description: 'Places and manages limit orders and rebalancing schedules that a background worker signs with delegated session keys. '
          + 'Every POST accepts an Idempotency-Key header. Errors are { error: { code, message, field?, rule?, problems? } }. '
          + 'A tenant past its requests of the minute is answered 429 API.RATE_LIMITED with Retry-After; halts, compromises, cancels, revocations and schedule pauses and deletions are never refused for it. '
          + 'A client that failed the admin or metrics token check too often in a minute is answered 429 API.AUTH_RATE_LIMITED with Retry-After on those routes until the minute ends.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'A tenant API key: Authorization: Bearer dpk_…' },
          adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN (Basic auth with the token as password also works, for browsers)' },
        },
      },
    },
    transform: createJsonSchemaTransform({ skipList: ['/docs', '/docs/*', '/openapi.json', '/metrics'] }),
    transformObject: jsonSchemaTransformObject,
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  // One count per client of its failed checks of the admin or the metrics token.
  const tokenGuard = tokenFailureGuard(deps.tokenFailuresPerMinute ?? DEFAULT_TOKEN_FAILURES_PER_MINUTE, deps.runtime.now)
  const metrics = createMetrics(deps)
  app.get('/metrics', { schema: { hide: true }, onRequest: metricsAuthentication(deps.metricsToken, tokenGuard) }, async (_request, reply) => {
    const { contentType, body } = await metrics.render()
    return reply.type(contentType).send(body)
  })
  await app.register(healthRoutes, { deps })

  const keys = idempotency({ db: deps.runtime.db, now: deps.runtime.now, ttlMs: deps.idempotencyTtlMs ?? 24 * 3600_000 })
  const withIdempotency = (scope: FastifyInstance) => {
    scope.addHook('preValidation', keys.fingerprint)
    scope.addHook('preHandler', keys.claim)
    scope.addHook('onSend', keys.record)
  }

  await app.register(async (v1) => {
    v1.addHook('onRequest', tenantAuthentication(deps.runtime.db, deps.runtime.now))
    await tenantRateLimit(v1, deps.rateLimitPerMinute ?? DEFAULT_API_RATE_LIMIT_PER_MINUTE)
    withIdempotency(v1)
    for (const routes of [walletRoutes, sessionRoutes, orderRoutes, workRoutes, killSwitchRoutes, policyRoutes, scheduleRoutes, statusRoutes, auditRoutes]) {
      await v1.register(routes, { deps })
    }
  }, { prefix: '/v1' })

  await app.register(async (admin) => {
    admin.addHook('onRequest', adminAuthentication(deps.adminToken, tokenGuard))
    withIdempotency(admin)
    await admin.register(adminRoutes, { deps })
  }, { prefix: '/admin' })

  await registerBullBoard(app, deps, tokenGuard)
  return app
}
