/** A dependency gave no answer within the deadline. */
export class DeadlineError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`)
    this.name = 'DeadlineError'
  }
}

/** How long an operator view (the API's, the worker's health server) waits for one of its dependencies (Postgres, Redis, the operator). */
export const DEPENDENCY_DEADLINE_MS = 2_000

/**
 * `work`'s answer, or a rejection (`no answer within <ms> ms`) once `ms` have passed without one.
 * The work itself goes on: a client waiting for a server that is down (ioredis keeps commands
 * until it reconnects) answers later, and that late answer or error is dropped here.
 */
export async function withinDeadline<T>(work: Promise<T>, ms: number = DEPENDENCY_DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(ms)), ms)
  })
  work.catch(() => undefined)
  try {
    return await Promise.race([work, deadline])
  } finally {
    clearTimeout(timer)
  }
}
