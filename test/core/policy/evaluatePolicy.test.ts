import { describe, expect, it } from 'vitest'
import type { RequestFamily } from '../../../src/core/acl/actions.js'
import { type PolicyFacts, type PolicyRules, evaluatePolicy } from '../../../src/core/policy/evaluatePolicy.js'
import { parseAmount } from '../../../src/core/money/decimal.js'

const amount = (value: string): bigint => parseAmount('amount', value)

/** A buy of 0.5 ETH at 1990 (notional 995) with the mark at 2000. */
const order: PolicyFacts = { family: 'Order', market: 'ETH-USD', price: amount('1990'), size: amount('0.5'), mark: amount('2000'), dailyNotional: 0n, openOrders: 0, requestsLastMinute: 0 }

const ruleOf = (rules: PolicyRules, facts: Partial<PolicyFacts> = {}) => evaluatePolicy(rules, { ...order, ...facts })?.rule ?? null

describe('evaluatePolicy', () => {
  it('passes a request when no rule is set', () => {
    expect(evaluatePolicy({}, order)).toBeNull()
  })

  it('allowedMarkets: refuses a market outside the list, names it and the allowed ones; an empty list allows nothing', () => {
    expect(ruleOf({ allowedMarkets: ['ETH-USD', 'BTC-USD'] })).toBeNull()
    const refusal = evaluatePolicy({ allowedMarkets: ['BTC-USD'] }, order)
    expect(refusal).toEqual({ rule: 'allowedMarkets', message: expect.stringContaining('ETH-USD') })
    expect(refusal!.message).toContain('BTC-USD')
    expect(evaluatePolicy({ allowedMarkets: [] }, order)?.message).toContain('none')
  })

  it('maxOrderNotional: refuses above the limit, allows exactly the limit', () => {
    expect(ruleOf({ maxOrderNotional: amount('995') })).toBeNull()
    const refusal = evaluatePolicy({ maxOrderNotional: amount('994.99') }, order)
    expect(refusal?.rule).toBe('maxOrderNotional')
    expect(refusal?.message).toBe('order notional 995 exceeds 994.99')
  })

  it('maxOrderNotional and maxDailyNotional: a notional past the limit by less than 1e-18 is refused, not rounded under it', () => {
    // 0.5 × 2.000000000000000001 = 1.0000000000000000005 (a market whose tick × lot has more than 18 decimals).
    const fine = { price: amount('0.5'), size: amount('2.000000000000000001') }
    expect(ruleOf({ maxOrderNotional: amount('1') }, fine)).toBe('maxOrderNotional')
    expect(ruleOf({ maxDailyNotional: amount('1') }, { ...fine, dailyNotional: 0n })).toBe('maxDailyNotional')
    expect(ruleOf({ maxOrderNotional: amount('1') }, { price: amount('0.5'), size: amount('2') })).toBeNull()
  })

  it('maxDailyNotional: counts what was placed today plus this request; exactly the limit passes', () => {
    expect(ruleOf({ maxDailyNotional: amount('1000') }, { dailyNotional: amount('5') })).toBeNull()
    const refusal = evaluatePolicy({ maxDailyNotional: amount('1000') }, { ...order, dailyNotional: amount('5.01') })
    expect(refusal?.rule).toBe('maxDailyNotional')
    expect(refusal?.message).toContain('1000.01')
    // Nothing placed yet today: the request alone is compared.
    expect(ruleOf({ maxDailyNotional: amount('994') }, { dailyNotional: undefined })).toBe('maxDailyNotional')
  })

  it('priceBandBps: refuses a price further from the mark than the band, on either side; the edge passes', () => {
    // 1990 is 50 bps below 2000.
    expect(ruleOf({ priceBandBps: 50 })).toBeNull()
    expect(ruleOf({ priceBandBps: 49 })).toBe('priceBandBps')
    expect(ruleOf({ priceBandBps: 49 }, { price: amount('2010') })).toBe('priceBandBps')
    expect(ruleOf({ priceBandBps: 50 }, { price: amount('2010') })).toBeNull()
    expect(evaluatePolicy({ priceBandBps: 10 }, order)?.message).toBe('price 1990 is more than 10 bps from the mark 2000')
  })

  it('priceBandBps: refuses when there is no mark to measure the band from (the operator quotes 0), rather than letting the price through unchecked', () => {
    expect(evaluatePolicy({ priceBandBps: 500 }, { ...order, mark: 0n })).toEqual({
      rule: 'priceBandBps', message: 'no mark price for ETH-USD (the operator quotes 0): a price band of 500 bps cannot be checked',
    })
    expect(ruleOf({ priceBandBps: 500 }, { family: 'ModifyOrder', mark: 0n })).toBe('priceBandBps')
    // Without a band, a missing mark is nothing to the policy.
    expect(ruleOf({ maxOrderNotional: amount('1000') }, { mark: 0n })).toBeNull()
  })

  it('maxOpenOrders: refuses a new Order once the live orders reach the limit, but not a modification', () => {
    expect(ruleOf({ maxOpenOrders: 3 }, { openOrders: 2 })).toBeNull()
    expect(ruleOf({ maxOpenOrders: 3 }, { openOrders: 3 })).toBe('maxOpenOrders')
    expect(ruleOf({ maxOpenOrders: 0 }, { openOrders: undefined })).toBe('maxOpenOrders')
    expect(ruleOf({ maxOpenOrders: 3 }, { family: 'ModifyOrder', openOrders: 3 })).toBeNull()
  })

  it('maxRequestsPerMinute: refuses once the requests of the last minute reach the limit', () => {
    expect(ruleOf({ maxRequestsPerMinute: 10 }, { requestsLastMinute: 9 })).toBeNull()
    const refusal = evaluatePolicy({ maxRequestsPerMinute: 10 }, { ...order, requestsLastMinute: 10 })
    expect(refusal).toEqual({ rule: 'maxRequestsPerMinute', message: '10 requests in the last minute reach the limit of 10' })
    expect(ruleOf({ maxRequestsPerMinute: 10 }, { family: 'ModifyOrder', requestsLastMinute: 10 })).toBe('maxRequestsPerMinute')
  })

  it('says 0, not undefined, when a count was not gathered', () => {
    expect(evaluatePolicy({ maxRequestsPerMinute: 0 }, { family: 'Order', market: 'ETH-USD' })?.message).toBe('0 requests in the last minute reach the limit of 0')
    expect(evaluatePolicy({ maxOpenOrders: 0 }, { family: 'Order', market: 'ETH-USD' })?.message).toBe('0 open orders reach the limit of 0')
  })

  it('applies to modifications with their new price and size', () => {
    expect(ruleOf({ maxOrderNotional: amount('1000') }, { family: 'ModifyOrder', size: amount('0.6') })).toBe('maxOrderNotional')
    expect(ruleOf({ allowedMarkets: ['BTC-USD'] }, { family: 'ModifyOrder' })).toBe('allowedMarkets')
  })

  it('answers the first rule broken, in a fixed order', () => {
    const everything: PolicyRules = {
      allowedMarkets: ['BTC-USD'], maxRequestsPerMinute: 0, maxOrderNotional: 1n, maxDailyNotional: 1n, priceBandBps: 0, maxOpenOrders: 0,
    }
    expect(ruleOf(everything)).toBe('allowedMarkets')
    expect(ruleOf({ ...everything, allowedMarkets: undefined })).toBe('maxRequestsPerMinute')
    expect(ruleOf({ ...everything, allowedMarkets: undefined, maxRequestsPerMinute: undefined })).toBe('maxOrderNotional')
  })

  it('never refuses a cancel, whatever the rules and facts', () => {
    const everything: PolicyRules = {
      allowedMarkets: [], maxRequestsPerMinute: 0, maxOrderNotional: 1n, maxDailyNotional: 1n, priceBandBps: 0, maxOpenOrders: 0,
    }
    const facts: Partial<PolicyFacts> = { dailyNotional: amount('1000000'), openOrders: 1000, requestsLastMinute: 1000, price: amount('1'), mark: amount('2000') }
    for (const family of ['CancelOrder', 'CancelAll'] satisfies RequestFamily[]) {
      expect(evaluatePolicy(everything, { ...order, ...facts, family })).toBeNull()
      expect(evaluatePolicy(everything, { family, market: family === 'CancelAll' ? '' : 'DOGE-USD' })).toBeNull()
    }
    expect(ruleOf(everything, { ...facts, family: 'Order' })).not.toBeNull()
  })
})
