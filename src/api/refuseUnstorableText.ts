import type { FastifyRequest } from 'fastify'
import { unstorableTextRule } from '../core/text/storableText.js'
import { RequestValidationError } from './errors.js'

/**
 * No request nests deeper than a few levels. JSON.parse takes any depth, but the walks after it
 * (this one, the Idempotency-Key fingerprint, zod) recurse: a body nested some ten thousand deep
 * overflowed the stack and was answered 500.
 */
const MAX_DEPTH = 32
const DEPTH_RULE = `must not nest objects or arrays more than ${MAX_DEPTH} deep`
/**
 * JSON has no Infinity, but JSON.parse reads a number beyond a double's range (`1e400`) as one: no
 * field takes it, and the Idempotency-Key fingerprint (canonical JSON) threw on it, answering 500.
 */
const FINITE_RULE = 'must be a finite number: JSON.parse reads a number beyond ±1.8e308 as Infinity'

/**
 * The dotted path and rule of the first string (value or key) in `value` Postgres cannot store, of a
 * number read as Infinity, or of nesting too deep, if any.
 */
function unstorablePath(value: unknown, path: string, depth = 0): { field: string; rule: string } | undefined {
  if (typeof value === 'string') {
    const rule = unstorableTextRule(value)
    return rule ? { field: path, rule } : undefined
  }
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { field: path, rule: FINITE_RULE }
  if (typeof value !== 'object' || value === null) return undefined
  if (depth >= MAX_DEPTH) return { field: path, rule: DEPTH_RULE }
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key
    const rule = unstorableTextRule(key)
    if (rule) return { field: at, rule }
    const found = unstorablePath(child, at, depth + 1)
    if (found) return found
  }
  return undefined
}

/**
 * A `preValidation` hook for every route: no text Deputy stores may hold U+0000 (Postgres refuses it
 * in text and jsonb) or a lone UTF-16 surrogate (not text UTF-8 can hold: jsonb refuses it, text
 * stores U+FFFD), so a body, query or path parameter carrying one is refused with its field named,
 * before anything is written or sent. Without it such a value reached a statement and failed there,
 * as a 500, possibly after an earlier step had taken effect (a revoke at the operator). A body nested
 * deeper than `MAX_DEPTH`, or holding a number too large for a double, is refused the same way.
 */
export async function refuseUnstorableText(request: FastifyRequest): Promise<void> {
  for (const [part, value] of [['body', request.body], ['query', request.query], ['params', request.params]] as const) {
    const found = unstorablePath(value, '')
    if (found !== undefined) throw new RequestValidationError([{ field: found.field || part, rule: found.rule }])
  }
}
