import { ValidationError } from '../errors/ValidationError.js'

/** Every amount on the wire is a fixed-point integer with 18 decimals. */
export const DECIMALS = 18
export const ONE = 10n ** BigInt(DECIMALS)
/** Basis points in one: a rate of `bps` basis points is `bps / BPS`. */
export const BPS = 10_000n
const UINT256_MAX = (1n << 256n) - 1n
/** The largest amount (18 decimals) `parseAmount` takes, and so the largest an order's total may reach to be read back. */
export const MAX_AMOUNT = UINT256_MAX
/** uint256 has 78 digits; anything longer is too large before any arithmetic. */
const MAX_WHOLE_DIGITS = 78
/**
 * JSON's number grammar without sign or exponent: no leading zeros ("007"), a
 * point needs digits on both sides ("1." and ".5" are refused). Trailing
 * fractional zeros ("1.50") are accepted and dropped by `formatAmount`.
 */
const plainDecimal = /^(0|[1-9]\d*)(?:\.(\d+))?$/

function describe(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
}

/** The rule a string that is not a plain decimal breaks, for a precise message. */
function ruleBroken(value: string): string {
  if (/^[-+]/.test(value)) return value.startsWith('-') ? 'must not be negative' : 'must not carry a sign'
  if (/^(nan|[-+]?infinity)$/i.test(value)) return 'must be a finite number'
  if (/^\s|\s$/.test(value)) return 'must not contain spaces'
  if (/^0[xob]/i.test(value)) return 'must be a base-10 decimal, not hex, octal or binary'
  if (/^[\d.]*\d[eE]/.test(value)) return 'must not use exponent notation'
  if (/^0\d/.test(value)) return 'must not have leading zeros'
  if (/^\./.test(value)) return 'needs a digit before the decimal point (write "0.5")'
  if (/\.$/.test(value)) return 'needs a digit after the decimal point (write "1" or "1.0")'
  return `must be a plain decimal number like "2000.5", got ${describe(value)}`
}

/**
 * Parses a non-negative decimal string ("2000.5") into an 18-decimal bigint.
 * Rejects NaN, infinities, exponents, signs, spaces, empty strings, leading
 * zeros, a bare point ("1.", ".5"), more than 18 fractional digits and values
 * above uint256, naming `field` in the error.
 */
export function parseAmount(field: string, value: unknown): bigint {
  if (typeof value !== 'string') throw new ValidationError(field, `must be a decimal string, got ${typeof value}`)
  if (value.length === 0) throw new ValidationError(field, 'must not be empty')
  const match = plainDecimal.exec(value)
  if (!match) throw new ValidationError(field, ruleBroken(value))
  const [, whole = '', fraction = ''] = match
  if (fraction.length > DECIMALS) throw new ValidationError(field, `must have at most ${DECIMALS} decimal places`, `got ${fraction.length}`)
  if (whole.length > MAX_WHOLE_DIGITS) throw new ValidationError(field, 'is too large (above uint256 at 18 decimals)')
  const result = BigInt(whole) * ONE + BigInt(fraction.padEnd(DECIMALS, '0'))
  if (result > UINT256_MAX) throw new ValidationError(field, 'is too large (above uint256 at 18 decimals)')
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

/**
 * Parses a decimal that may be negative ("-0.25"): a fee, which an operator paying maker rebates
 * answers below zero. The magnitude follows `parseAmount`'s rules.
 */
export function parseSignedAmount(field: string, value: unknown): bigint {
  if (typeof value === 'string' && value.startsWith('-')) return -parseAmount(field, value.slice(1))
  return parseAmount(field, value)
}

/** Parses an amount that must be strictly positive. */
export function parsePositiveAmount(field: string, value: unknown): bigint {
  const amount = parseAmount(field, value)
  if (amount === 0n) throw new ValidationError(field, 'must be greater than zero')
  return amount
}
