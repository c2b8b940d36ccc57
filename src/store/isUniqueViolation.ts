/** Whether a driver error (pg or PGlite, possibly wrapped by drizzle) is a unique violation, optionally of one constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const candidate = e as { code?: unknown; constraint?: unknown; message?: unknown }
    if (candidate.code === '23505') return constraint === undefined || candidate.constraint === constraint || String(candidate.message ?? '').includes(constraint)
  }
  return false
}
