import type { FastifyReply, FastifyRequest } from 'fastify'
import { SandboxError } from '../SandboxError.js'

/** Turns anything thrown in a handler into `{ error: { code, message } }`; nothing a client sends may become a 5xx. */
export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof SandboxError) {
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds))
    return reply.code(error.status).send(error.toBody())
  }
  const status = (error as { statusCode?: unknown }).statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client errors (body too large, bad content length, ...) map to the protocol's InvalidRequest.
    return reply.code(400).send({ error: { code: 'InvalidRequest', message: (error as Error).message } })
  }
  request.log.error({ err: error }, 'sandbox: unexpected error')
  return reply.code(500).send({ error: { code: 'InternalError', message: 'internal error' } })
}
