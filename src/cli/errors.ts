import { BaseError } from '../core/errors/BaseError.js'

/** What a `deputy` exit code means; scripts may rely on these. */
export const exitCodes = {
  ok: 0,
  /** The operation was refused or failed (not found, conflict, rejected order, server error, timeout waiting). */
  failed: 1,
  /** Bad usage or input: unknown option, malformed value, or the API refused the input (400/422). */
  usage: 2,
  /** The API could not be reached. */
  unreachable: 3,
} as const
export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes]

/** An error the CLI reports and turns into its exit code. */
export class CliError extends BaseError {
  override name = 'CliError'
  readonly exitCode: ExitCode
  /** The API's error body when the API answered one. */
  readonly body: { code: string; message: string; field?: string; rule?: string; problems?: { field: string; rule: string }[] } | undefined
  readonly status: number | undefined

  constructor(exitCode: ExitCode, message: string, options: { code?: string; status?: number; body?: CliError['body']; cause?: unknown } = {}) {
    super(message, { code: options.code ?? options.body?.code ?? 'CLI.FAILED', cause: options.cause })
    this.exitCode = exitCode
    this.body = options.body
    this.status = options.status
  }
}
