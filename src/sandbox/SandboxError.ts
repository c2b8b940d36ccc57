import { type VenueErrorCode, venueErrorSpecs } from '../core/errors/venue.js'

/**
 * A protocol error the sandbox answers with `{ error: { code, message } }` and
 * the status PROTOCOL.md §5 gives the code. Deliberately not a BaseError: it is
 * a response, thrown on hot paths, and carries nothing but what goes on the wire.
 */
export class SandboxError extends Error {
  override name = 'SandboxError'
  readonly code: VenueErrorCode | 'NotFound'
  readonly status: number
  /** Seconds for the `Retry-After` header (RateLimited). */
  readonly retryAfterSeconds: number | undefined

  constructor(code: VenueErrorCode | 'NotFound', message: string, options: { status?: number; retryAfterSeconds?: number } = {}) {
    super(message)
    this.code = code
    this.status = options.status ?? (code === 'NotFound' ? 404 : venueErrorSpecs[code].status)
    this.retryAfterSeconds = options.retryAfterSeconds
  }

  toBody(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } }
  }
}

export function invalid(message: string): SandboxError {
  return new SandboxError('InvalidRequest', message)
}
