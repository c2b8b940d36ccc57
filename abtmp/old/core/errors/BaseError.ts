/**
 * The one error base. Code that crosses a process boundary (BullMQ jobs) must
 * branch on `name` / `code`, never only on `instanceof`.
 */
export type BaseErrorParameters = {
  /** Stable machine code, `DOMAIN.WHAT` (e.g. `VENUE.SESSION_UNAUTHORIZED`). */
  code: string
  /** Whether retrying the same operation later may succeed. */
  retryable?: boolean
  /** What an operator should check first. */
  hint?: string
  details?: string
  cause?: unknown
}

export class BaseError extends Error {
  override name = 'DeputyError'
  readonly code: string
  readonly shortMessage: string
  readonly retryable: boolean
  readonly hint: string | undefined
  readonly details: string | undefined

  constructor(shortMessage: string, parameters: BaseErrorParameters) {
    const lines = [shortMessage]
    if (parameters.hint) lines.push(`Check: ${parameters.hint}`)
    if (parameters.details) lines.push(`Details: ${parameters.details}`)
    super(lines.join('\n'), parameters.cause === undefined ? undefined : { cause: parameters.cause })
    this.code = parameters.code
    this.shortMessage = shortMessage
    this.retryable = parameters.retryable ?? false
    this.hint = parameters.hint
    this.details = parameters.details
  }

  /** A plain object safe to persist or send across processes. */
  toJSON(): { name: string; code: string; message: string; retryable: boolean } {
    return { name: this.name, code: this.code, message: this.shortMessage, retryable: this.retryable }
  }
}
