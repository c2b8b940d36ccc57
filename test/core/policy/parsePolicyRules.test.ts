import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../src/core/errors/ValidationError.js'
import { parsePolicyRules } from '../../../src/core/policy/parsePolicyRules.js'

/** The ValidationError `parsePolicyRules` throws for `input`. */
function failure(input: unknown, field?: string): ValidationError {
  try {
    parsePolicyRules(input, field)
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return error as ValidationError
  }
  throw new Error(`accepted ${JSON.stringify(input)}`)
}

describe('parsePolicyRules', () => {
  it('parses every rule, amounts to 18-decimal bigints', () => {
    expect(parsePolicyRules({
      allowedMarkets: ['ETH-USD'], maxOrderNotional: '1000.5', maxDailyNotional: '25000', priceBandBps: 150, maxOpenOrders: 20, maxRequestsPerMinute: 0,
    })).toEqual({
      allowedMarkets: ['ETH-USD'], maxOrderNotional: 1000_500000000000000000n, maxDailyNotional: 25000n * 10n ** 18n, priceBandBps: 150, maxOpenOrders: 20, maxRequestsPerMinute: 0,
    })
    expect(parsePolicyRules({})).toEqual({})
  })

  it('refuses anything but an object, naming the field', () => {
    for (const input of [null, [], 'rules', 42, undefined]) {
      const error = failure(input)
      expect(error.field).toBe('policy')
      expect(error.code).toBe('CORE.VALIDATION')
    }
    expect(failure([], 'rules').field).toBe('rules')
  })

  it('refuses an unknown rule by name and lists the known ones', () => {
    const error = failure({ maxOrderNotional: '10', maxLeverage: 5 })
    expect(error.field).toBe('policy.maxLeverage')
    expect(error.rule).toContain('allowedMarkets')
    expect(error.rule).toContain('maxRequestsPerMinute')
  })

  it.each([
    ['allowedMarkets', 'ETH-USD'],
    ['allowedMarkets', ['ETH-USD', '']],
    ['allowedMarkets', [1]],
    ['maxOrderNotional', 1000],
    ['maxOrderNotional', '0'],
    ['maxOrderNotional', '-5'],
    ['maxOrderNotional', '1e3'],
    ['maxDailyNotional', '0.0000000000000000001'],
    ['maxDailyNotional', ''],
    ['priceBandBps', 1.5],
    ['priceBandBps', -1],
    ['priceBandBps', 10_001],
    ['priceBandBps', '100'],
    ['maxOpenOrders', 100_001],
    ['maxOpenOrders', Number.NaN],
    ['maxRequestsPerMinute', 1_000_001],
    ['maxRequestsPerMinute', null],
  ])('names the field of a bad %s (%j)', (rule, value) => {
    expect(failure({ [rule]: value }).field).toBe(`policy.${rule}`)
    expect(failure({ [rule]: value }, 'rules').field).toBe(`rules.${rule}`)
  })

  it('accepts the edges of the integer ranges', () => {
    expect(parsePolicyRules({ priceBandBps: 0, maxOpenOrders: 100_000, maxRequestsPerMinute: 1_000_000 })).toEqual({ priceBandBps: 0, maxOpenOrders: 100_000, maxRequestsPerMinute: 1_000_000 })
    expect(parsePolicyRules({ priceBandBps: 10_000 }).priceBandBps).toBe(10_000)
  })
})
