import { ONE, formatAmount, parseAmount } from '../money/decimal.js'
import { ValidationError } from '../errors/ValidationError.js'
import { ScheduleValidationError, type ValidationProblem } from './ScheduleValidationError.js'
import { timingProblems } from './timingProblems.js'
import { QUOTE_ASSET } from './types.js'

/** A schedule spec as a user or the API submits it (JSON: decimals are strings). */
export type ScheduleSpecInput = {
  /** asset → target weight, e.g. `{ "ETH": "0.5", "USD": "0.5" }`; weights sum to exactly 1. */
  targets: Record<string, string>
  /** 5 fields, or 6 with seconds first, as BullMQ job schedulers take them. */
  cron: string
  /** IANA zone the cron is read in, e.g. `"Europe/Paris"`. */
  timeZone: string
  /** Absolute weight drift tolerated before an asset trades, in [0, 1), e.g. `"0.02"`. */
  toleranceBand: string
  /** Smallest leg worth placing, in quote units. */
  minTradeNotional: string
  /** Limit price offset from the mark, in basis points, 0–1000. */
  limitOffsetBps: number
  /** Most notional (sells plus buys) one run may trade, in quote units. */
  maxNotionalPerRun?: string
}

/** A validated spec: weights and amounts are 18-decimal bigints. */
export type ScheduleSpec = {
  /** asset → weight; keys in code-unit order. */
  targets: Readonly<Record<string, bigint>>
  cron: string
  timeZone: string
  toleranceBand: bigint
  minTradeNotional: bigint
  limitOffsetBps: number
  maxNotionalPerRun?: bigint
}

export type ParseScheduleSpecErrorType = ScheduleValidationError

export const MAX_LIMIT_OFFSET_BPS = 1000
export const MAX_TARGETS = 64
const knownFields = new Set(['targets', 'cron', 'timeZone', 'toleranceBand', 'minTradeNotional', 'limitOffsetBps', 'maxNotionalPerRun'])
// Letters and digits only: the market name is `<ASSET>-USD`, and keys such as
// "__proto__" must never reach a plain object.
const assetName = /^[A-Za-z0-9]{1,32}$/

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Runs a parser that throws ValidationError and turns the throw into a problem. */
function attempt<T>(problems: ValidationProblem[], parse: () => T): T | undefined {
  try {
    return parse()
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    problems.push({ field: error.field, rule: error.rule })
    return undefined
  }
}

function parseTargets(value: unknown, problems: ValidationProblem[]): Record<string, bigint> | undefined {
  if (!isRecord(value)) {
    problems.push({ field: 'targets', rule: 'must be an object of asset → weight, e.g. {"ETH": "0.5", "USD": "0.5"}' })
    return undefined
  }
  const assets = Object.keys(value).sort()
  if (assets.length === 0) {
    problems.push({ field: 'targets', rule: 'must name at least one asset' })
    return undefined
  }
  if (assets.length > MAX_TARGETS) problems.push({ field: 'targets', rule: `must name at most ${MAX_TARGETS} assets` })
  const before = problems.length
  const targets: Record<string, bigint> = {}
  const seen = new Map<string, string>()
  let sum = 0n
  for (const asset of assets) {
    const field = `targets.${asset}`
    if (!assetName.test(asset)) {
      // An empty name as a field would read `targets.`, which names nothing.
      problems.push(asset === '' ? { field: 'targets', rule: 'asset names must not be empty' } : { field, rule: 'asset must be 1–32 letters or digits' })
      continue
    }
    const clash = seen.get(asset.toUpperCase())
    if (clash !== undefined) problems.push({ field, rule: `differs from ${clash} only in case` })
    seen.set(asset.toUpperCase(), asset)
    const weight = attempt(problems, () => parseAmount(field, value[asset]))
    if (weight === undefined) continue
    if (weight > ONE) problems.push({ field, rule: 'must be between 0 and 1' })
    targets[asset] = weight
    sum += weight
  }
  if (problems.length > before) return undefined
  if (assets.every((asset) => asset === QUOTE_ASSET)) {
    problems.push({ field: 'targets', rule: `must name at least one asset other than ${QUOTE_ASSET}: a schedule trades assets against ${QUOTE_ASSET}` })
  }
  if (sum !== ONE) problems.push({ field: 'targets', rule: `weights must sum to exactly 1, got ${formatAmount(sum)}` })
  return problems.length > before ? undefined : targets
}

function parseBps(value: unknown, problems: ValidationProblem[]): number | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_LIMIT_OFFSET_BPS) {
    problems.push({ field: 'limitOffsetBps', rule: `must be an integer from 0 to ${MAX_LIMIT_OFFSET_BPS}` })
    return undefined
  }
  return value
}

/**
 * Validates a rebalancing schedule spec. Collects every problem and throws one
 * `ScheduleValidationError` listing them, each naming its field and rule.
 */
export function parseScheduleSpec(input: unknown): ScheduleSpec {
  const problems: ValidationProblem[] = []
  if (!isRecord(input)) throw new ScheduleValidationError([{ field: 'schedule', rule: 'must be an object' }])
  for (const key of Object.keys(input)) {
    if (!knownFields.has(key)) problems.push({ field: key, rule: 'is not a schedule field' })
  }
  const targets = parseTargets(input.targets, problems)
  problems.push(...timingProblems(input.cron, input.timeZone))
  const toleranceBand = attempt(problems, () => parseAmount('toleranceBand', input.toleranceBand))
  if (toleranceBand !== undefined && toleranceBand >= ONE) problems.push({ field: 'toleranceBand', rule: 'must be at least 0 and below 1' })
  const minTradeNotional = attempt(problems, () => parseAmount('minTradeNotional', input.minTradeNotional))
  const limitOffsetBps = parseBps(input.limitOffsetBps, problems)
  let maxNotionalPerRun: bigint | undefined
  if (input.maxNotionalPerRun !== undefined) {
    maxNotionalPerRun = attempt(problems, () => parseAmount('maxNotionalPerRun', input.maxNotionalPerRun))
    if (maxNotionalPerRun === 0n) problems.push({ field: 'maxNotionalPerRun', rule: 'must be greater than zero (omit it for no cap)' })
  }

  if (problems.length > 0) throw new ScheduleValidationError(problems)
  // Every undefined above pushed a problem, so these hold; the checks keep the types honest.
  if (targets === undefined || toleranceBand === undefined || minTradeNotional === undefined || limitOffsetBps === undefined) {
    throw new ScheduleValidationError([{ field: 'schedule', rule: 'is invalid' }])
  }
  return {
    targets,
    cron: (input.cron as string).trim(),
    timeZone: input.timeZone as string,
    toleranceBand,
    minTradeNotional,
    limitOffsetBps,
    ...(maxNotionalPerRun === undefined ? {} : { maxNotionalPerRun }),
  }
}
