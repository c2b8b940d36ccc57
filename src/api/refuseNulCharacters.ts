import type { FastifyRequest } from 'fastify'
import { RequestValidationError } from './errors.js'

const RULE = 'must not contain the NUL character (U+0000): Postgres cannot store it'

/** The dotted path of the first string (value or key) holding U+0000 in `value`, if any. */
function nulPath(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined
  if (typeof value !== 'object' || value === null) return undefined
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key
    if (key.includes('\u0000')) return at
    const found = nulPath(child, at)
    if (found) return found
  }
  return undefined
}

/**
 * A `preValidation` hook for every route: no text Deputy stores may hold U+0000 (Postgres refuses it
 * in text and jsonb), so a body, query or path parameter carrying one is refused with its field named,
 * before anything is written or sent. Without it such a value reached a statement and failed there,
 * as a 500, possibly after an earlier step had taken effect (a revoke at the operator).
 */
export async function refuseNulCharacters(request: FastifyRequest): Promise<void> {
  for (const [part, value] of [['body', request.body], ['query', request.query], ['params', request.params]] as const) {
    const path = nulPath(value, '')
    if (path !== undefined) throw new RequestValidationError([{ field: path || part, rule: RULE }])
  }
}
