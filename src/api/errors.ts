import { BaseError } from '../core/errors/BaseError.js'

/** Fastify's longest path parameter (its default): no id is near it. */
export const MAX_PARAM_LENGTH = 100

/** One broken rule of a request: the field (dotted path) and what it must be. */
export type Problem = { field: string; rule: string }

/**
 * An error the API answers with a definite status. The body is always
 * `{ error: { code, message, field?, rule?, problems? } }`.
 */
export class ApiError extends BaseError {
  override name = 'ApiError'
  readonly statusCode: number
  readonly field: string | undefined
  readonly rule: string | undefined
  readonly problems: readonly Problem[] | undefined
  readonly headers: Record<string, string>

  constructor(statusCode: number, code: string, message: string, options: { field?: string; rule?: string; problems?: readonly Problem[]; headers?: Record<string, string>; hint?: string; retryable?: boolean } = {}) {
    super(message, { code, hint: options.hint, retryable: options.retryable })
    this.statusCode = statusCode
    this.field = options.field
    this.rule = options.rule
    this.problems = options.problems
    this.headers = options.headers ?? {}
  }
}

/** A resource that does not exist, or belongs to another tenant: the two are indistinguishable on purpose. */
export class NotFoundError extends ApiError {
  override name = 'NotFoundError'
  constructor(resource: string, field: string, rule = `must name ${/^[aeiou]/.test(resource) ? 'an' : 'a'} ${resource} of this tenant`) {
    super(404, 'API.NOT_FOUND', `${resource} not found`, { field, rule })
  }
}

export class UnauthorizedError extends ApiError {
  override name = 'UnauthorizedError'
  constructor(message: string, challenge: string) {
    super(401, 'API.UNAUTHORIZED', message, { headers: { 'www-authenticate': challenge } })
  }
}

/** Request schema validation (zod): 400, every problem listed, the first one in `field` / `rule`. */
export class RequestValidationError extends ApiError {
  override name = 'RequestValidationError'
  constructor(problems: readonly Problem[]) {
    const [first = { field: 'request', rule: 'is invalid' }] = problems
    super(400, 'API.VALIDATION', problems.map((p) => `${p.field}: ${p.rule}`).join('; '), { field: first.field, rule: first.rule, problems })
  }
}
