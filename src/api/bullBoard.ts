import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import type { FastifyInstance } from 'fastify'
import type { ApiDeps } from './ApiDeps.js'
import { adminAuthentication } from './auth/authenticate.js'
import { ApiError } from './errors.js'

export const BULL_BOARD_PATH = '/admin/queues'
/** How long the board's reads wait for Redis before answering 503. */
export const BULL_BOARD_READ_TIMEOUT_MS = 5_000

/**
 * Bull Board behind the admin token. The submit queue is read-only: a manual
 * retry could send an order the worker already resolved another way (the
 * outbox and reconciliation own retries), so the board only shows it.
 */
export async function registerBullBoard(app: FastifyInstance, deps: ApiDeps): Promise<void> {
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
    const authenticate = adminAuthentication(deps.adminToken)
    // Bull Board installs its own error handler for its routes, so answer the refusal here.
    scope.addHook('onRequest', async (request, reply) => {
      try {
        await authenticate(request)
      } catch (error) {
        if (!(error instanceof ApiError)) throw error
        return reply.code(error.statusCode).headers(error.headers).send({ error: { code: error.code, message: error.shortMessage } })
      }
    })
    // The board's reads wait for Redis like any command: while it is down they would hang, and the
    // page polls every few seconds. Reads answer 503 after a while instead. Its actions (retry,
    // clean, pause) are not cut short: ioredis runs them once Redis is back, and a 503 must not
    // tell the operator that an action which still happens did not.
    scope.addHook('onRoute', (route) => {
      if ([route.method].flat().every((method) => method === 'GET' || method === 'HEAD')) route.handlerTimeout ??= BULL_BOARD_READ_TIMEOUT_MS
    })
    await scope.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH })
  })
}
