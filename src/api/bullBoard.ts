import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import type { FastifyError, FastifyInstance, FastifyReply, RouteHandlerMethod } from 'fastify'
import type { ApiDeps } from './ApiDeps.js'
import type { TokenGuard } from './auth/tokenFailureGuard.js'
import { adminAuthentication } from './auth/authenticate.js'
import { errorHandler } from './errorHandler.js'
import { ApiError } from './errors.js'

export const BULL_BOARD_PATH = '/admin/queues'
/** How long the board's reads wait for Redis before answering 503. */
export const BULL_BOARD_READ_TIMEOUT_MS = 5_000

/**
 * Bull Board behind the admin token. The submit queue is read-only: a manual
 * retry could send an order the worker already resolved another way (the
 * outbox and reconciliation own retries), so the board only shows it. A wrong token counts
 * against the client as it does on the other admin routes (`tokenGuard`).
 */
export async function registerBullBoard(app: FastifyInstance, deps: ApiDeps, tokenGuard: TokenGuard): Promise<void> {
  const serverAdapter = new FastifyAdapter()
  serverAdapter.setBasePath(BULL_BOARD_PATH)
  createBullBoard({
    queues: [
      new BullMQAdapter(deps.submitQueue, { readOnlyMode: true, description: 'Signed requests to the operator (read-only: retries belong to the worker)' }),
      new BullMQAdapter(deps.controlQueue, { description: 'Reconciliation, session maintenance, schedule runs' }),
    ],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Deputy queues' } },
  })
  await app.register(async (scope) => {
    const authenticate = adminAuthentication(deps.adminToken, tokenGuard)
    // Bull Board installs its own error handler for its routes, so answer the refusal here, as the API's handler does.
    scope.addHook('onRequest', async (request, reply) => {
      try {
        await authenticate(request)
      } catch (error) {
        if (!(error instanceof ApiError)) throw error
        return errorHandler(error as unknown as FastifyError, request, reply)
      }
    })
    // The board's reads wait for Redis like any command: while it is down they would hang, and the
    // page polls every few seconds. Reads answer 503 after a while instead. Its actions (retry,
    // clean, pause) are not cut short here: ioredis runs them once Redis is back, and a 503 must not
    // tell the operator that an action which still happens did not. They fail ('Command timed out')
    // past REDIS_COMMAND_TIMEOUT_MS (redisConnections), which says no more than that.
    scope.addHook('onRoute', (route) => {
      if (![route.method].flat().every((method) => method === 'GET' || method === 'HEAD')) return
      route.handlerTimeout ??= BULL_BOARD_READ_TIMEOUT_MS
      // The timeout does not stop the board's handler: once Redis is back it answers too, and Fastify
      // would log that second answer as a bug ("Reply was already sent"). It goes nowhere instead.
      const handler = route.handler as RouteHandlerMethod
      route.handler = function (request, reply) {
        return handler.call(this, request, dropLateAnswer(reply))
      }
    })
    await scope.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH })
  })
}

/**
 * `reply`, except that `send` does nothing once a response went out (the read timed out and was
 * answered 503). Every method runs on the real reply; the chainable ones (`status`, `header`, …)
 * answer this wrapper, so the `send` that follows them is the guarded one.
 */
function dropLateAnswer(reply: FastifyReply): FastifyReply {
  const guarded: FastifyReply = new Proxy(reply, {
    get(target, key) {
      if (key === 'send') return (payload?: unknown) => {
        if (!target.sent) target.send(payload)
        return guarded
      }
      const value: unknown = Reflect.get(target, key, target)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        const result: unknown = value.apply(target, args)
        return result === target ? guarded : result
      }
    },
  })
  return guarded
}
