import type { FastifyInstance } from 'fastify'
import { repeatedJsonKey } from '../core/text/repeatedJsonKey.js'
import { RequestValidationError } from './errors.js'

/**
 * JSON bodies are parsed by Fastify's own parser (prototype poisoning refused, as by default), then
 * refused with 400 naming the key when one object repeats a key: JSON.parse would keep the last
 * value (`{"size":"0.1","size":"100"}` places 100), where the client, a proxy or a log may read the
 * first. Nothing is claimed or stored for such a request.
 */
export function refuseRepeatedJsonKeys(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    void parseJson(request, body as string, (error, value) => {
      if (error) return done(error, undefined)
      const repeated = repeatedJsonKey(body as string)
      if (repeated !== undefined) return done(new RequestValidationError([{ field: repeated, rule: 'must appear once in its object: a key given twice is refused, not one of its values picked' }]), undefined)
      done(null, value)
    })
  })
}
