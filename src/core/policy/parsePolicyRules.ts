import { ValidationError } from '../errors/ValidationError.js'
import { parsePositiveAmount } from '../money/decimal.js'
import type { PolicyRules } from './evaluatePolicy.js'

const known = ['allowedMarkets', 'maxOrderNotional', 'maxDailyNotional', 'priceBandBps', 'maxOpenOrders', 'maxRequestsPerMinute']

function positiveInt(field: string, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) throw new ValidationError(field, `must be an integer from 0 to ${max}`)
  return value
}

/** Validates policy rules from user input (amounts as decimal strings); unknown fields are refused. */
export function parsePolicyRules(input: unknown, field = 'policy'): PolicyRules {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ValidationError(field, 'must be an object')
  const raw = input as Record<string, unknown>
  for (const key of Object.keys(raw)) if (!known.includes(key)) throw new ValidationError(`${field}.${key}`, `is not a policy rule (${known.join(', ')})`)
  const rules: PolicyRules = {}
  if (raw.allowedMarkets !== undefined) {
    if (!Array.isArray(raw.allowedMarkets) || raw.allowedMarkets.some((m) => typeof m !== 'string' || !m)) throw new ValidationError(`${field}.allowedMarkets`, 'must be a list of market names')
    rules.allowedMarkets = raw.allowedMarkets as string[]
  }
  if (raw.maxOrderNotional !== undefined) rules.maxOrderNotional = parsePositiveAmount(`${field}.maxOrderNotional`, raw.maxOrderNotional)
  if (raw.maxDailyNotional !== undefined) rules.maxDailyNotional = parsePositiveAmount(`${field}.maxDailyNotional`, raw.maxDailyNotional)
  if (raw.priceBandBps !== undefined) rules.priceBandBps = positiveInt(`${field}.priceBandBps`, raw.priceBandBps, 10_000)
  if (raw.maxOpenOrders !== undefined) rules.maxOpenOrders = positiveInt(`${field}.maxOpenOrders`, raw.maxOpenOrders, 100_000)
  if (raw.maxRequestsPerMinute !== undefined) rules.maxRequestsPerMinute = positiveInt(`${field}.maxRequestsPerMinute`, raw.maxRequestsPerMinute, 1_000_000)
  return rules
}
