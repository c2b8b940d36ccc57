import type { Logger } from 'pino'

/**
 * A bug that escapes every handler (an uncaught exception, a rejected promise nobody awaited) still
 * ends the process, as Node's default does, but through the logger first: one fatal line with the
 * error, under the logger's redaction, instead of Node's raw dump of the error and its properties to
 * stderr. The process exits at once with code 1 rather than closing gracefully: its state is no
 * longer known, and the worker is built to be killed at any moment (its jobs are re-run, the same
 * bytes resent); the supervisor starts it again.
 */
export function exitOnCrash(log: Logger, exit: (code: number) => void = (code) => process.exit(code)): void {
  const crash = (what: string) => (error: unknown) => {
    log.fatal({ err: error }, `${what}; exiting`)
    exit(1)
  }
  process.on('uncaughtException', crash('uncaught exception'))
  process.on('unhandledRejection', crash('unhandled promise rejection'))
}
