/**
 * What drizzle's `DrizzleQueryError` adds to its message: every bound value of the failed statement
 * (a sealed session key, an API key's hash, a user's text), from its `params:` line to the end of
 * the message, or in a stack to its first frame: a value may span several lines.
 */
export const QUERY_PARAMS_LINE = /\nparams: [\s\S]*?(?=\n {4}at |$)/g

/**
 * The message of a thrown value, whatever was thrown. A failed statement's message is its SQL
 * without its bound values, then the database's reason (its cause): the message is printed and
 * stored (the CLI, a schedule run's error, an alert), where the values must not go.
 */
export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const message = error.message.replace(QUERY_PARAMS_LINE, '')
  if (message === error.message) return message
  return error.cause instanceof Error ? `${message}: ${error.cause.message}` : message
}
