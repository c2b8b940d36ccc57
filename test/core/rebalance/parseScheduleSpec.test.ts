import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../src/core/errors/ValidationError.js'
import { ONE } from '../../../src/core/money/decimal.js'
import { parseScheduleSpec } from '../../../src/core/rebalance/parseScheduleSpec.js'
import { ScheduleValidationError, type ValidationProblem } from '../../../src/core/rebalance/ScheduleValidationError.js'

const valid = {
  targets: { ETH: '0.5', USD: '0.5' },
  cron: '0 9 * * 1',
  timeZone: 'Europe/Paris',
  toleranceBand: '0.02',
  minTradeNotional: '10',
  limitOffsetBps: 50,
}

function problemsOf(input: unknown): ValidationProblem[] {
  try {
    parseScheduleSpec(input)
  } catch (error) {
    expect(error).toBeInstanceOf(ScheduleValidationError)
    return [...(error as ScheduleValidationError).problems]
  }
  throw new Error('expected a ScheduleValidationError')
}

function fieldsOf(input: unknown): string[] {
  return problemsOf(input).map((p) => p.field)
}

describe('parseScheduleSpec', () => {
  it('parses a valid spec into 18-decimal bigints', () => {
    const spec = parseScheduleSpec({ ...valid, targets: { USD: '0.25', ETH: '0.5', BTC: '0.25' }, maxNotionalPerRun: '5000.5' })
    expect(spec).toEqual({
      targets: { BTC: ONE / 4n, ETH: ONE / 2n, USD: ONE / 4n },
      cron: '0 9 * * 1',
      timeZone: 'Europe/Paris',
      toleranceBand: ONE / 50n,
      minTradeNotional: 10n * ONE,
      limitOffsetBps: 50,
      maxNotionalPerRun: 5000n * ONE + ONE / 2n,
    })
    expect(Object.keys(spec.targets)).toEqual(['BTC', 'ETH', 'USD'])
  })

  it('leaves maxNotionalPerRun out when it is not given', () => {
    expect('maxNotionalPerRun' in parseScheduleSpec(valid)).toBe(false)
  })

  it('accepts weights of exactly 0 and 1, and 18 decimal places', () => {
    expect(parseScheduleSpec({ ...valid, targets: { ETH: '1', BTC: '0' } }).targets).toEqual({ BTC: 0n, ETH: ONE })
    const third = '0.333333333333333333'
    const spec = parseScheduleSpec({ ...valid, targets: { A: third, B: third, C: '0.333333333333333334' } })
    expect(Object.values(spec.targets).reduce((a, b) => a + b, 0n)).toBe(ONE)
  })

  it('collects every problem at once, each naming its field', () => {
    const error = (() => {
      try {
        parseScheduleSpec({
          targets: { ETH: '0.7', USD: '0.7' },
          cron: '0 25 * * *',
          timeZone: 'Mars/Olympus',
          toleranceBand: '1',
          minTradeNotional: '-5',
          limitOffsetBps: 1001,
          maxNotionalPerRun: '0',
          extra: true,
        })
      } catch (e) {
        return e as ScheduleValidationError
      }
      throw new Error('expected a throw')
    })()
    expect(error).toBeInstanceOf(ValidationError)
    expect(error.code).toBe('CORE.VALIDATION')
    expect(error.name).toBe('ScheduleValidationError')
    expect(error.retryable).toBe(false)
    expect(error.problems.map((p) => p.field).sort()).toEqual(
      ['cron', 'extra', 'limitOffsetBps', 'maxNotionalPerRun', 'minTradeNotional', 'targets', 'timeZone', 'toleranceBand'].sort(),
    )
    expect(error.field).toBe(error.problems[0]?.field)
    expect(error.rule).toContain('7 more problems')
    const json = error.toJSON()
    expect(json.code).toBe('CORE.VALIDATION')
    expect(json.problems).toHaveLength(8)
    expect(JSON.parse(JSON.stringify(json)).problems[0]).toEqual(error.problems[0])
  })

  it('rejects a non-object spec', () => {
    expect(problemsOf(null)).toEqual([{ field: 'schedule', rule: 'must be an object' }])
    expect(problemsOf([valid])).toEqual([{ field: 'schedule', rule: 'must be an object' }])
  })

  describe('targets', () => {
    it('must sum to exactly 1 in 18-decimal fixed point', () => {
      const [problem] = problemsOf({ ...valid, targets: { ETH: '0.5', USD: '0.499999999999999999' } })
      expect(problem).toEqual({ field: 'targets', rule: 'weights must sum to exactly 1, got 0.999999999999999999' })
      expect(problemsOf({ ...valid, targets: { ETH: '0.6', USD: '0.5' } })[0]?.rule).toContain('got 1.1')
    })

    it('names the asset whose weight is malformed or out of range', () => {
      expect(fieldsOf({ ...valid, targets: { ETH: '1.5', USD: '0' } })).toContain('targets.ETH')
      expect(fieldsOf({ ...valid, targets: { ETH: 0.5, USD: '0.5' } })).toEqual(['targets.ETH'])
      expect(fieldsOf({ ...valid, targets: { ETH: '-0.5', USD: '1.5' } })).toEqual(['targets.ETH', 'targets.USD'])
      expect(fieldsOf({ ...valid, targets: { ETH: '1e-1', USD: '0.9' } })).toEqual(['targets.ETH'])
      expect(fieldsOf({ ...valid, targets: { ETH: '0.1234567890123456789', USD: '0.9' } })).toEqual(['targets.ETH'])
    })

    it('needs at least one asset, and one that is not the quote asset', () => {
      expect(problemsOf({ ...valid, targets: {} })).toEqual([{ field: 'targets', rule: 'must name at least one asset' }])
      expect(problemsOf({ ...valid, targets: { USD: '1' } })[0]?.rule).toContain('other than USD')
      expect(fieldsOf({ ...valid, targets: ['ETH'] })).toEqual(['targets'])
      expect(fieldsOf({ ...valid, targets: undefined })).toEqual(['targets'])
    })

    it('rejects asset names that cannot form a market name, and case clashes', () => {
      expect(fieldsOf({ ...valid, targets: { 'ETH-USD': '0.5', USD: '0.5' } })).toEqual(['targets.ETH-USD'])
      expect(fieldsOf({ ...valid, targets: JSON.parse('{"__proto__": "0.5", "USD": "0.5"}') })).toEqual(['targets.__proto__'])
      expect(problemsOf({ ...valid, targets: { '': '0.5', USD: '0.5' } })).toEqual([{ field: 'targets', rule: 'asset names must not be empty' }])
      expect(problemsOf({ ...valid, targets: { ETH: '0.5', eth: '0.5' } })).toEqual([{ field: 'targets.eth', rule: 'differs from ETH only in case' }])
    })
  })

  describe('amounts', () => {
    it('toleranceBand is a decimal in [0, 1)', () => {
      expect(parseScheduleSpec({ ...valid, toleranceBand: '0' }).toleranceBand).toBe(0n)
      expect(parseScheduleSpec({ ...valid, toleranceBand: '0.999999999999999999' }).toleranceBand).toBe(ONE - 1n)
      expect(problemsOf({ ...valid, toleranceBand: '1' })).toEqual([{ field: 'toleranceBand', rule: 'must be at least 0 and below 1' }])
      expect(fieldsOf({ ...valid, toleranceBand: 0.02 })).toEqual(['toleranceBand'])
      expect(fieldsOf({ ...valid, toleranceBand: undefined })).toEqual(['toleranceBand'])
    })

    it('minTradeNotional is a non-negative decimal string', () => {
      expect(parseScheduleSpec({ ...valid, minTradeNotional: '0' }).minTradeNotional).toBe(0n)
      expect(fieldsOf({ ...valid, minTradeNotional: 'NaN' })).toEqual(['minTradeNotional'])
      expect(fieldsOf({ ...valid, minTradeNotional: '-1' })).toEqual(['minTradeNotional'])
    })

    it('maxNotionalPerRun, when given, is a positive decimal', () => {
      expect(fieldsOf({ ...valid, maxNotionalPerRun: '0' })).toEqual(['maxNotionalPerRun'])
      expect(fieldsOf({ ...valid, maxNotionalPerRun: null })).toEqual(['maxNotionalPerRun'])
      expect(fieldsOf({ ...valid, maxNotionalPerRun: 100 })).toEqual(['maxNotionalPerRun'])
    })

    it('limitOffsetBps is an integer from 0 to 1000', () => {
      expect(parseScheduleSpec({ ...valid, limitOffsetBps: 0 }).limitOffsetBps).toBe(0)
      expect(parseScheduleSpec({ ...valid, limitOffsetBps: 1000 }).limitOffsetBps).toBe(1000)
      for (const bad of [-1, 1001, 2.5, '50', Number.NaN, null]) {
        expect(problemsOf({ ...valid, limitOffsetBps: bad })).toEqual([{ field: 'limitOffsetBps', rule: 'must be an integer from 0 to 1000' }])
      }
    })
  })

  it('rejects unknown fields so a typo never silently drops a cap', () => {
    expect(problemsOf({ ...valid, maxNotional: '100' })).toEqual([{ field: 'maxNotional', rule: 'is not a schedule field' }])
  })
})
