import Fastify, { type FastifyInstance, LogController } from 'fastify'
import { invalid } from '../SandboxError.js'
import type { SandboxState } from '../state.js'
import { sendError } from './sendError.js'

const BODY_LIMIT = 256 * 1024

/**
 * The Fastify instance with the sandbox's wire conventions: every body is
 * parsed as JSON whatever its content type (plain JSON.parse: the schemas
 * reject anything unexpected), every error is `{ error: { code, message } }`,
 * and no per-request logging.
 */
export function buildServer(state: SandboxState): FastifyInstance {
  const { quiet, logLevel } = state.config
  const app = Fastify({
    logger: quiet ? false : { level: logLevel },
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    bodyLimit: BODY_LIMIT,
    frameworkErrors: (error, request, reply) => {
      sendError(Object.assign(error, { statusCode: 400 }), request, reply)
    },
  })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => {
    const text = body as string
    if (text.length === 0) return done(null, undefined)
    try {
      done(null, JSON.parse(text))
    } catch {
      done(invalid('body: not valid JSON'), undefined)
    }
  })
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply))
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: { code: 'NotFound', message: `no route ${request.method} ${request.url.split('?')[0]}` } }))
  // Injected latency delays every protocol request (not the controls, so a test can always turn faults off).
  app.addHook('onRequest', (request, _reply, done) => {
    const latency = state.faults.latencyMs
    if (latency > 0 && request.url.startsWith('/v1/')) setTimeout(done, latency)
    else done()
  })
  return app
}
