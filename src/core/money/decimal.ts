import { ValidationError } from '../errors/ValidationError.js'

/** Every amount on the wire is a fixed-point integer with 18 decimals. */
export const DECIMALS = 18
export const ONE = 10n ** BigInt(DECIMALS)
const UINT256_MAX = (1n << 256n) - 1n
const plainDecimal = /^(\d+)(?:\.(\d+))?$/

/**
 * Parses a non-negative decimal string ("2000.5") into an 18-decimal bigint.
 * Rejects NaN, infinities, exponents, signs, spaces, empty strings and more than
 * 18 fractional digits, naming `field` in the error.
 */
export function parseAmount(field: string, value: unknown): bigint {
  if (typeof value !== 'string') throw new ValidationError(field, `must be a decimal string, got ${typeof value}`)
  if (value.length === 0) throw new ValidationError(field, 'must not be empty')
  if (/^[-+]/.test(value)) {
    throw new ValidationError(field, value.startsWith('-') ? 'must not be negative' : 'must not carry a sign')
  }
  if (/[eE]/.test(value) && !/^nan$/i.test(value)) throw new ValidationError(field, 'must not use exponent notation')
  const match = plainDecimal.exec(value)
  if (!match) throw new ValidationError(field, `must be a plain decimal number like "2000.5", got ${JSON.stringify(value.slice(0, 40))}`)
  const [, whole = '', fraction = ''] = match
  if (fraction.length > DECIMALS) throw new ValidationError(field, `must have at most ${DECIMALS} decimal places`)
  const result = BigInt(whole) * ONE + BigInt(fraction.padEnd(DECIMALS, '0') || '0')
  if (result > UINT256_MAX) throw new ValidationError(field, 'is too large')
  return result
}

/** Formats an 18-decimal bigint as the shortest exact decimal string. */
export function formatAmount(value: bigint): string {
  const negative = value < 0n
  const abs = negative ? -value : value
  const whole = abs / ONE
  const fraction = (abs % ONE).toString().padStart(DECIMALS, '0').replace(/0+$/, '')
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`
}

/** Parses an amount that must be strictly positive. */
export function parsePositiveAmount(field: string, value: unknown): bigint {
  const amount = parseAmount(field, value)
  if (amount === 0n) throw new ValidationError(field, 'must be greater than zero')
  return amount
}
