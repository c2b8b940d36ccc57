import { BaseError } from './BaseError.js'

/** Bad input: names the field and the rule it broke. Never retryable. */
export class ValidationError extends BaseError {
  override name = 'ValidationError'
  readonly field: string
  readonly rule: string

  constructor(field: string, rule: string, details?: string) {
    super(`${field}: ${rule}`, { code: 'CORE.VALIDATION', retryable: false, details })
    this.field = field
    this.rule = rule
  }
}
