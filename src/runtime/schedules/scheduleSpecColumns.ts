import { formatAmount, parseAmount } from '../../core/money/decimal.js'
import { type ScheduleSpec, type ScheduleSpecInput, parseScheduleSpec } from '../../core/rebalance/parseScheduleSpec.js'
import type { NewScheduleRow, ScheduleRow } from '../../store/schema/index.js'

type SpecColumns = Pick<NewScheduleRow, 'targets' | 'cron' | 'timeZone' | 'toleranceBand' | 'minTradeNotional' | 'limitOffsetBps' | 'maxNotionalPerRun'>

/**
 * A parsed spec as stored: decimals normalised by `formatAmount`, so the row
 * reads back as the same spec and `specOfRow` re-parses it under the same rules.
 */
export function scheduleSpecColumns(spec: ScheduleSpec): Required<SpecColumns> {
  return {
    targets: Object.fromEntries(Object.entries(spec.targets).map(([asset, weight]) => [asset, formatAmount(weight)])),
    cron: spec.cron,
    timeZone: spec.timeZone,
    toleranceBand: formatAmount(spec.toleranceBand),
    minTradeNotional: formatAmount(spec.minTradeNotional),
    limitOffsetBps: spec.limitOffsetBps,
    maxNotionalPerRun: spec.maxNotionalPerRun === undefined ? null : formatAmount(spec.maxNotionalPerRun),
  }
}

/** The stored spec in the shape a user submits, e.g. to merge an edit over it. */
export function specInputOfRow(row: ScheduleRow): ScheduleSpecInput {
  // Postgres pads numerics to their scale ('0.02' reads back as '0.020000000000000000').
  const plain = (field: string, value: string): string => formatAmount(parseAmount(field, value))
  return {
    targets: { ...row.targets },
    cron: row.cron,
    timeZone: row.timeZone,
    toleranceBand: plain('toleranceBand', row.toleranceBand),
    minTradeNotional: plain('minTradeNotional', row.minTradeNotional),
    limitOffsetBps: row.limitOffsetBps,
    ...(row.maxNotionalPerRun === null ? {} : { maxNotionalPerRun: plain('maxNotionalPerRun', row.maxNotionalPerRun) }),
  }
}

/** The stored spec, validated again: a run never trusts a row it did not check. */
export function specOfRow(row: ScheduleRow): ScheduleSpec {
  return parseScheduleSpec(specInputOfRow(row))
}
