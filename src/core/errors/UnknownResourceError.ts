import { BaseError } from './BaseError.js'

/**
 * A resource the caller named that does not exist for its tenant (another tenant's wallet, found so
 * inside a write's transaction). The API answers it exactly as its own not-found (404
 * `API.NOT_FOUND`, `NotFoundError`): another tenant's resource looks like a missing one.
 */
export class UnknownResourceError extends BaseError {
  override name = 'UnknownResourceError'
  readonly resource: string
  readonly field: string
  readonly rule: string

  constructor(resource: string, field: string) {
    super(`${resource} not found`, { code: 'CORE.NOT_FOUND', retryable: false })
    this.resource = resource
    this.field = field
    this.rule = `must name a ${resource} of this tenant`
  }
}
