import { parseUnits } from 'ethers'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../src/core/errors/ValidationError.js'
import { formatAmount, parseAmount, parsePositiveAmount, parseSignedAmount } from '../../src/core/money/decimal.js'
import { assertMultiple, ceilToStep, divAmount, floorToStep, mulAmount } from '../../src/core/money/increments.js'
import { thrown } from './support/arbitraries.js'

const E18 = 10n ** 18n
const UINT256_MAX = 2n ** 256n - 1n

function validationError(fn: () => unknown): ValidationError {
  const error = thrown(fn)
  expect(error).toBeInstanceOf(ValidationError)
  return error as ValidationError
}

/** A decimal string the API accepts: no leading zeros, optional 1–18 fractional digits (trailing zeros allowed). */
const validDecimalArb = fc
  .tuple(
    fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,40}$/)),
    fc.option(fc.stringMatching(/^[0-9]{1,18}$/), { nil: undefined }),
  )
  .map(([whole, fraction]) => ({ whole, fraction, text: fraction === undefined ? whole : `${whole}.${fraction}` }))

describe('parseAmount / formatAmount', () => {
  it('reads decimal strings as 18-decimal fixed point', () => {
    expect(parseAmount('price', '2000.5')).toBe(2000n * E18 + 5n * 10n ** 17n)
    expect(parseAmount('price', '0')).toBe(0n)
    expect(parseAmount('price', '0.000000000000000001')).toBe(1n)
    expect(parseAmount('price', '1.50')).toBe(15n * 10n ** 17n)
    expect(formatAmount(2000n * E18 + 5n * 10n ** 17n)).toBe('2000.5')
    expect(formatAmount(1n)).toBe('0.000000000000000001')
    expect(formatAmount(0n)).toBe('0')
    expect(formatAmount(-15n * 10n ** 17n)).toBe('-1.5')
  })

  it('round-trips any bigint in [0, 2^200) through formatAmount and parseAmount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 200n - 1n }), (value) => {
        expect(parseAmount('amount', formatAmount(value))).toBe(value)
      }),
      { numRuns: 500 },
    )
  })

  it('formats what it parses in canonical form and agrees with ethers parseUnits', () => {
    fc.assert(
      fc.property(validDecimalArb, ({ whole, fraction, text }) => {
        const parsed = parseAmount('amount', text)
        expect(parsed).toBe(parseUnits(text, 18))
        const trimmed = (fraction ?? '').replace(/0+$/, '')
        expect(formatAmount(parsed)).toBe(trimmed ? `${whole}.${trimmed}` : whole)
      }),
      { numRuns: 500 },
    )
  })

  it('accepts the largest uint256 and refuses one more', () => {
    expect(parseAmount('size', formatAmount(UINT256_MAX))).toBe(UINT256_MAX)
    const error = validationError(() => parseAmount('size', formatAmount(UINT256_MAX + 1n)))
    expect(error.field).toBe('size')
    expect(error.rule).toMatch(/too large/)
    expect(validationError(() => parseAmount('size', '9'.repeat(200))).rule).toMatch(/too large/)
  })

  it.each([
    ['NaN', /finite/],
    ['Infinity', /finite/],
    ['1e18', /exponent/],
    ['1E-3', /exponent/],
    ['2.5e3', /exponent/],
    ['-1', /negative/],
    ['+1', /sign/],
    ['', /empty/],
    [' 1', /spaces/],
    ['1 ', /spaces/],
    ['1.', /digit after the decimal point/],
    ['.5', /digit before the decimal point/],
    ['0x10', /base-10/],
    ['007', /leading zeros/],
    ['00.5', /leading zeros/],
    ['1.2.3', /plain decimal/],
    ['1,5', /plain decimal/],
    ['１', /plain decimal/],
    [`0.${'1'.repeat(19)}`, /at most 18 decimal places/],
  ])('rejects %j naming the field and the rule', (input, rule) => {
    const error = validationError(() => parseAmount('price', input))
    expect(error.field).toBe('price')
    expect(error.rule).toMatch(rule)
    expect(error.message).toContain(`price: ${error.rule}`)
    expect(error.code).toBe('CORE.VALIDATION')
  })

  it.each([
    [1.5, 'number'],
    [1n, 'bigint'],
    [null, 'object'],
    [undefined, 'undefined'],
  ])('rejects the non-string %s', (input, kind) => {
    const error = validationError(() => parseAmount('size', input))
    expect(error.field).toBe('size')
    expect(error.rule).toBe(`must be a decimal string, got ${kind}`)
  })

  it('either parses a string exactly as ethers does or throws a ValidationError naming the field', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789.eE+- x'.split('')), maxLength: 24 }), (text) => {
        let parsed: bigint
        try {
          parsed = parseAmount('amount', text)
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError)
          expect((error as ValidationError).field).toBe('amount')
          return
        }
        expect(text).toMatch(/^(0|[1-9]\d*)(\.\d{1,18})?$/)
        expect(parsed).toBe(parseUnits(text, 18))
      }),
      { numRuns: 500 },
    )
  })

  it('parsePositiveAmount refuses zero in any spelling and accepts the smallest unit', () => {
    for (const zero of ['0', '0.0', '0.000000000000000000']) {
      const error = validationError(() => parsePositiveAmount('size', zero))
      expect(error.field).toBe('size')
      expect(error.rule).toBe('must be greater than zero')
    }
    expect(parsePositiveAmount('size', '0.000000000000000001')).toBe(1n)
    expect(validationError(() => parsePositiveAmount('size', '-1')).rule).toMatch(/negative/)
  })

  it('parseSignedAmount reads a rebate below zero, round-trips through formatAmount, and holds the magnitude to parseAmount\'s rules', () => {
    expect(parseSignedAmount('fee', '-0.25')).toBe(-25n * 10n ** 16n)
    expect(parseSignedAmount('fee', '0.25')).toBe(25n * 10n ** 16n)
    fc.assert(fc.property(fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }), (n) => parseSignedAmount('fee', formatAmount(n)) === n))
    for (const [bad, rule] of [['--1', /negative/], ['-', /empty/], ['- 1', /spaces/], ['-1e3', /exponent/], ['+1', /sign/]] as const) {
      const error = validationError(() => parseSignedAmount('fee', bad))
      expect(error.field).toBe('fee')
      expect(error.rule).toMatch(rule)
    }
  })
})

describe('increments', () => {
  const tick = parseAmount('tickSize', '0.01')
  const lot = parseAmount('lotSize', '0.001')

  it('assertMultiple accepts multiples and names field, step and value otherwise', () => {
    expect(() => assertMultiple('price', parseAmount('price', '2000.01'), tick, 'tickSize')).not.toThrow()
    expect(() => assertMultiple('size', 0n, lot, 'lotSize')).not.toThrow()
    const price = validationError(() => assertMultiple('price', parseAmount('price', '2000.005'), tick, 'tickSize'))
    expect(price.field).toBe('price')
    expect(price.rule).toBe("must be a multiple of the market's tickSize 0.01")
    expect(price.message).toContain('got 2000.005')
    const size = validationError(() => assertMultiple('size', parseAmount('size', '0.0015'), lot, 'lotSize'))
    expect(size.field).toBe('size')
    expect(size.rule).toBe("must be a multiple of the market's lotSize 0.001")
    expect(size.message).toContain('got 0.0015')
  })

  it('assertMultiple refuses a zero or negative step, naming the step', () => {
    for (const step of [0n, -tick]) {
      const error = validationError(() => assertMultiple('price', 1n, step, 'tickSize'))
      expect(error.field).toBe('tickSize')
      expect(error.rule).toBe('must be greater than zero')
    }
  })

  it('floorToStep and ceilToStep bracket the value with the nearest multiples', () => {
    expect(floorToStep(parseAmount('p', '2000.019'), tick)).toBe(parseAmount('p', '2000.01'))
    expect(ceilToStep(parseAmount('p', '2000.011'), tick)).toBe(parseAmount('p', '2000.02'))
    expect(ceilToStep(parseAmount('p', '2000.01'), tick)).toBe(parseAmount('p', '2000.01'))
    expect(floorToStep(-5n, 10n)).toBe(-10n)
    expect(ceilToStep(-5n, 10n)).toBe(0n)
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 128n), max: 2n ** 128n }), fc.bigInt({ min: 1n, max: 2n ** 70n }), (value, step) => {
        const down = floorToStep(value, step)
        const up = ceilToStep(value, step)
        expect(down % step).toBe(0n)
        expect(up % step).toBe(0n)
        expect(down <= value && value < down + step).toBe(true)
        expect(up >= value && value > up - step).toBe(true)
        expect(up - down).toBe(value % step === 0n ? 0n : step)
      }),
      { numRuns: 500 },
    )
  })

  it('floorToStep and ceilToStep refuse a zero step with a ValidationError', () => {
    expect(validationError(() => floorToStep(5n, 0n, 'lotSize')).field).toBe('lotSize')
    expect(validationError(() => ceilToStep(5n, 0n)).rule).toBe('must be greater than zero')
  })

  it('mulAmount and divAmount compute 18-decimal products and quotients', () => {
    expect(mulAmount(parseAmount('p', '2000.5'), parseAmount('s', '0.001'))).toBe(parseAmount('n', '2.0005'))
    expect(divAmount(parseAmount('n', '2.0005'), parseAmount('p', '2000.5'))).toBe(parseAmount('s', '0.001'))
    expect(divAmount(1n, 3n * E18)).toBe(0n)
    expect(divAmount(E18, 3n * E18)).toBe(333333333333333333n)
  })

  it('mulAmount rounds down (toward minus infinity) for any signs', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n }), fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n }), (a, b) => {
        const r = mulAmount(a, b)
        expect(r * E18 <= a * b && a * b < (r + 1n) * E18).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('divAmount rounds down (toward minus infinity) for any signs and refuses a zero divisor', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n }), fc.bigInt({ min: 1n, max: 2n ** 130n }), fc.boolean(), (a, magnitude, negate) => {
        const b = negate ? -magnitude : magnitude
        const r = divAmount(a, b)
        // floor(a·1e18 / b): the exact quotient lies in [r, r + 1).
        const lower = b > 0n ? r * b <= a * E18 : r * b >= a * E18
        const upper = b > 0n ? a * E18 < (r + 1n) * b : a * E18 > (r + 1n) * b
        expect(lower && upper).toBe(true)
      }),
      { numRuns: 500 },
    )
    const error = validationError(() => divAmount(E18, 0n))
    expect(error.field).toBe('divisor')
    expect(error.rule).toBe('must not be zero')
  })
})
