import { ValidationError } from '../errors/ValidationError.js'
import { formatAmount } from './decimal.js'

/** Throws unless `value` is a whole multiple of `step` (tick or lot size). */
export function assertMultiple(field: string, value: bigint, step: bigint, stepName: string): void {
  if (step <= 0n) throw new ValidationError(stepName, 'must be greater than zero')
  if (value % step !== 0n) {
    throw new ValidationError(field, `must be a multiple of the market's ${stepName} ${formatAmount(step)}`, `got ${formatAmount(value)}`)
  }
}

/** Rounds down to a multiple of `step`. */
export function floorToStep(value: bigint, step: bigint): bigint {
  return value - (((value % step) + step) % step)
}

/** Rounds up to a multiple of `step`. */
export function ceilToStep(value: bigint, step: bigint): bigint {
  const floored = floorToStep(value, step)
  return floored === value ? value : floored + step
}

/** Multiplies two 18-decimal amounts (price × size → notional), rounding down. */
export function mulAmount(a: bigint, b: bigint): bigint {
  return (a * b) / 10n ** 18n
}

/** Divides two 18-decimal amounts (notional ÷ price → size), rounding down. */
export function divAmount(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new ValidationError('divisor', 'must not be zero')
  return (a * 10n ** 18n) / b
}
