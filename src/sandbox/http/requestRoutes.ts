import type { FastifyInstance } from 'fastify'
import { SandboxError } from '../SandboxError.js'
import { prepareRequest } from '../engine/prepareRequest.js'
import type { SandboxState } from '../state.js'
import { parseRequestBody } from '../verify/parseRequestBody.js'
import { revokeSession } from '../verify/revokeSession.js'
import { verifyRequest } from '../verify/verifyRequest.js'
import { maybeUnavailable } from './routeContext.js'

/**
 * `POST /v1/requests` and `POST /v1/sessions/revoke`. Everything from parsing
 * to the effect runs synchronously, so no other request interleaves.
 */
export function registerRequestRoutes(app: FastifyInstance, state: SandboxState): void {
  app.post('/v1/requests', async (request, reply) => {
    const outcome = verifyRequest(state, parseRequestBody(request.body))
    if ('duplicate' in outcome) return { receipt: outcome.duplicate }
    const commit = prepareRequest(state, outcome.verified)
    const wait = state.rateLimiter.take(outcome.verified.delegation.sessionPublicKey, state.now())
    if (wait > 0) throw new SandboxError('RateLimited', `too many requests for this session key; retry in ${wait}s`, { retryAfterSeconds: wait })
    maybeUnavailable(state)
    const receipt = commit()
    const drop = state.faults.dropAfterAccept
    if (drop > 0 && state.random() < drop) {
      // The request took effect; the client never hears so (an unknown outcome it must resolve).
      reply.hijack()
      request.raw.socket.destroy()
      return reply
    }
    return { receipt }
  })

  app.post('/v1/sessions/revoke', async (request) => ({ revocation: revokeSession(state, request.body, () => maybeUnavailable(state)) }))
}
