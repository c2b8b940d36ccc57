import { ValidationError } from '../errors/ValidationError.js'
import { ONE, formatAmount } from './decimal.js'

function assertStep(stepName: string, step: bigint): void {
  if (step <= 0n) throw new ValidationError(stepName, 'must be greater than zero', `got ${formatAmount(step)}`)
}

/** Floor division (BigInt `/` truncates toward zero, which rounds negatives up). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return (a % b !== 0n) && ((a < 0n) !== (b < 0n)) ? q - 1n : q
}

/** Throws unless `value` is a whole multiple of `step` (tick or lot size). */
export function assertMultiple(field: string, value: bigint, step: bigint, stepName: string): void {
  assertStep(stepName, step)
  if (value % step !== 0n) {
    throw new ValidationError(field, `must be a multiple of the market's ${stepName} ${formatAmount(step)}`, `got ${formatAmount(value)}`)
  }
}

/** Rounds down (toward minus infinity) to a multiple of `step`. */
export function floorToStep(value: bigint, step: bigint, stepName = 'step'): bigint {
  assertStep(stepName, step)
  return value - (((value % step) + step) % step)
}

/** Rounds up (toward plus infinity) to a multiple of `step`. */
export function ceilToStep(value: bigint, step: bigint, stepName = 'step'): bigint {
  const floored = floorToStep(value, step, stepName)
  return floored === value ? value : floored + step
}

/** Multiplies two 18-decimal amounts (price × size → notional), rounding down. */
export function mulAmount(a: bigint, b: bigint): bigint {
  return floorDiv(a * b, ONE)
}

/** Divides two 18-decimal amounts (notional ÷ price → size), rounding down. */
export function divAmount(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new ValidationError('divisor', 'must not be zero')
  return floorDiv(a * ONE, b)
}
