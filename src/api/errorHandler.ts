import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { BaseError } from '../core/errors/BaseError.js'
import { UnknownResourceError } from '../core/errors/UnknownResourceError.js'
import { isConnectionFailure } from '../store/isConnectionFailure.js'
import { isStatementCancelled } from '../store/isStatementCancelled.js'
import { ApiError, MAX_PARAM_LENGTH, NotFoundError, type Problem, RequestValidationError } from './errors.js'

type ErrorBody = { error: { code: string; message: string; field?: string; rule?: string; problems?: Problem[] } }

type ZodIssueLike = { instancePath: string; keyword: string; message?: string; params?: Record<string, unknown> }

/** A zod issue as a field and a rule a person can act on. */
export function issueProblem(context: string | undefined, issue: ZodIssueLike): Problem {
  const path = issue.instancePath.split('/').filter(Boolean)
  const params = issue.params ?? {}
  if (issue.keyword === 'unrecognized_keys' && Array.isArray(params.keys)) {
    return { field: [...path, String(params.keys[0])].join('.'), rule: `is not a known field${params.keys.length > 1 ? ` (nor ${params.keys.slice(1).join(', ')})` : ''}` }
  }
  const field = path.length ? path.join('.') : (context ?? 'request')
  const message = issue.message ?? 'is invalid'
  if (issue.keyword === 'invalid_type') {
    if (/received undefined/.test(message)) return { field, rule: 'is required' }
    // A message the schema wrote itself says it best; zod's own say "Invalid input: …".
    if (!message.startsWith('Invalid input')) return { field, rule: message }
    const expected = String(params.expected ?? 'value')
    return { field, rule: `must be ${expected === 'int' ? 'an integer' : article(expected)}` }
  }
  if (issue.keyword === 'invalid_value' && Array.isArray(params.values)) {
    return { field, rule: `must be one of ${params.values.map((v) => JSON.stringify(v)).join(', ')}` }
  }
  return { field, rule: message.replace(/^Invalid input: /, '') }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

/** The rules of a URL Fastify refuses before routing it (it hands these to `frameworkErrors`). */
const urlRules: Record<string, string> = {
  FST_ERR_BAD_URL: 'must be valid percent-encoded UTF-8',
  FST_ERR_MAX_PARAM_LENGTH: `must not have a path segment longer than ${MAX_PARAM_LENGTH} characters`,
}

/**
 * Maps every error to one body shape. Validation: 400 (request shape) or 422
 * (a domain rule); a body that is not JSON by its Content-Type: 415;
 * not found / another tenant's: 404; state conflicts: 409;
 * the operator or Privy failing: 502/503; Postgres unreachable or out of time: 503;
 * anything else: 500 without internals. A 500 is logged as an error (a bug to
 * look at); a dependency that failed (502/503) as a warning.
 */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, headers } = toResponse(error, request)
  if (status === 500) request.log.error({ err: error }, 'request failed')
  else if (status > 500) request.log.warn({ err: error }, 'request failed: a dependency failed')
  return reply.code(status).headers(headers).send(body)
}

function toResponse(error: FastifyError, request: FastifyRequest): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as { validationContext?: string }).validationContext
    // A query parameter given twice (`?limit=1&limit=2`, `?state=open&state=filled`) arrives as a
    // list, which its schema refuses in its own words ("must be a string", "must be one of …").
    const query = context === 'querystring' ? request.query as Record<string, unknown> : {}
    const problems = error.validation.map((issue) => {
      const problem = issueProblem(context, issue as ZodIssueLike)
      return Array.isArray(query[problem.field]) ? { field: problem.field, rule: 'must be given once' } : problem
    })
    return toResponse(new RequestValidationError(problems) as unknown as FastifyError, request)
  }
  if (error instanceof ApiError) {
    return {
      status: error.statusCode,
      headers: error.headers,
      body: { error: { code: error.code, message: error.shortMessage, ...fieldRule(error.field, error.rule), ...(error.problems ? { problems: [...error.problems] } : {}) } },
    }
  }
  // Another tenant's resource met inside a write: answered exactly as the routes' own not-found.
  if (error instanceof UnknownResourceError) {
    return toResponse(new NotFoundError(error.resource, error.field, error.rule) as unknown as FastifyError, request)
  }
  // Deputy's own errors first: one about another dependency (the operator, Privy) may carry a
  // refused socket in its causes too, and names its dependency itself.
  if (error instanceof BaseError && !error.code.startsWith('STORE.')) return domainError(error)
  // Postgres could not be reached, dropped the connection, or ran out of time (statement_timeout).
  if (isConnectionFailure(error) || isStatementCancelled(error)) {
    return { status: 503, headers: { 'retry-after': '2' }, body: { error: { code: 'STORE.UNAVAILABLE', message: 'the database is unavailable (down, restarting or overloaded); retry later' } } }
  }
  if (error instanceof BaseError) return domainError(error)
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    // A body sent as another type than JSON (text/plain, a form, none at all): no parser takes it.
    const type = mediaType(request.headers['content-type'])
    return {
      status: 415, headers: {},
      body: { error: { code: 'API.UNSUPPORTED_MEDIA_TYPE', message: `unsupported media type ${type}: the API reads JSON bodies only`, field: 'Content-Type', rule: 'must be application/json' } },
    }
  }
  if (status < 500) {
    // Fastify's own refusals: malformed JSON, body too large, a URL it cannot route.
    const url = urlRules[error.code ?? '']
    const field = error.code?.startsWith('FST_ERR_CTP') ? 'body' : url ? 'url' : undefined
    return { status, headers: {}, body: { error: { code: status === 404 ? 'API.NOT_FOUND' : 'API.BAD_REQUEST', message: error.message, ...fieldRule(field, url ?? (field ? error.message : undefined)) } } }
  }
  return { status: 500, headers: {}, body: { error: { code: 'API.INTERNAL', message: `internal error (request ${request.id})` } } }
}

function domainError(error: BaseError): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const withFields = error as BaseError & { field?: string; rule?: string; problems?: unknown }
  // ScheduleValidationError lists { field, rule }; PreLiveCheckError lists strings about the delegation.
  const problems = Array.isArray(withFields.problems)
    ? withFields.problems.map((p: unknown): Problem => (typeof p === 'string' ? { field: 'delegation', rule: p } : p as Problem))
    : undefined
  const body: ErrorBody = {
    error: { code: error.code, message: error.shortMessage, ...fieldRule(withFields.field, withFields.rule), ...(problems ? { problems } : {}) },
  }
  if (error.name === 'OrderNotOpenError') return { status: 409, headers: {}, body: { error: { ...body.error, code: 'ORDER.NOT_OPEN' } } }
  if (error.code === 'CORE.VALIDATION' || error.code === 'SESSION.PRE_LIVE_FAILED') return { status: 422, headers: {}, body }
  if (error.code === 'SESSION.GRANT_IN_PROGRESS') return { status: 409, headers: { 'retry-after': '1' }, body }
  if (error.code === 'SESSION.GRANT_ENDED') return { status: 409, headers: {}, body }
  if (error.code === 'SESSION.WALLET_SIGNER_REQUIRED') return { status: 409, headers: {}, body }
  if (error.code.startsWith('PRIVY.')) {
    // Privy unavailable or rate limiting: as for the operator, 503 and when to try again (Privy's own
    // Retry-After when it gave one); Privy refusing the request: 502 naming its code.
    if (!error.retryable) return { status: 502, headers: {}, body }
    const retryAfterMs = (error as BaseError & { retryAfterMs?: number }).retryAfterMs
    return { status: 503, headers: { 'retry-after': String(Math.max(1, Math.ceil((retryAfterMs ?? 0) / 1000))) }, body }
  }
  // The operator verifies over another EIP-712 domain than this process signs with: nothing was signed
  // (or what was, was refused); it may answer the old one again, otherwise a restart adopts the new one.
  if (error.code === 'OPERATOR.DOMAIN_CHANGED') return { status: 503, headers: { 'retry-after': '5' }, body }
  if (error.code === 'SESSION.REVOKE_FAILED') return { status: 502, headers: { 'retry-after': '5' }, body }
  if (error.code.startsWith('VENUE.')) return { status: error.retryable ? 503 : 502, headers: error.retryable ? { 'retry-after': '1' } : {}, body }
  return { status: 500, headers: {}, body: { error: { code: error.code, message: error.shortMessage } } }
}

/** A request's media type as it can be repeated in an answer: its type/subtype only, or what it is not. */
function mediaType(header: string | undefined): string {
  if (header === undefined || !header.trim()) return '(none)'
  const type = header.split(';')[0]!.trim().toLowerCase()
  return /^[a-z0-9!#$&^_.+-]{1,64}\/[a-z0-9!#$&^_.+-]{1,64}$/.test(type) ? type : '(not a media type)'
}

function fieldRule(field: string | undefined, rule: string | undefined): { field?: string; rule?: string } {
  return field === undefined ? {} : { field, ...(rule === undefined ? {} : { rule }) }
}
