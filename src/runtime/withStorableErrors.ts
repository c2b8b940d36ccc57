import { QUERY_PARAMS_LINE, errorMessage } from '../core/errors/errorMessage.js'

/**
 * A BullMQ processor whose errors carry no bound values of a failed statement. BullMQ keeps a failed
 * job's `err.message` (failedReason) and `err.stack` (stacktrace) in Redis, beside the job; drizzle's
 * message lists every value of the statement (a receipt, signed bytes, a sealed key, a user's text).
 * The error thrown on is the same object (its name, code and class still steer retries), its message
 * the statement and the database's reason (`errorMessage`), its stack without the values' line.
 */
export function withStorableErrors<Args extends unknown[], Result>(processor: (...args: Args) => Promise<Result>): (...args: Args) => Promise<Result> {
  return async (...args) => {
    try {
      return await processor(...args)
    } catch (error) {
      if (error instanceof Error) {
        const message = errorMessage(error)
        if (message !== error.message) error.message = message
        if (error.stack) error.stack = error.stack.replace(QUERY_PARAMS_LINE, '')
      }
      throw error
    }
  }
}
