import { ONE } from '../money/decimal.js'
import { mulAmount } from '../money/increments.js'
import type { Holding } from './types.js'

export type HoldingsTableParameters = {
  /** The assets to list, in the order to list them. */
  assets: readonly string[]
  balances: ReadonlyMap<string, bigint>
  /** Mark per asset; absent for the quote asset, whose value is its balance. */
  marks: ReadonlyMap<string, bigint>
  targets: ReadonlyMap<string, bigint>
}

export type HoldingsTableResult = { rows: Holding[]; total: bigint }

/** Values each asset at its mark and weighs it against the total, for a before/after table. */
export function holdingsTable({ assets, balances, marks, targets }: HoldingsTableParameters): HoldingsTableResult {
  const valued = assets.map((asset) => {
    const balance = balances.get(asset) ?? 0n
    const mark = marks.get(asset)
    return { asset, balance, value: mark === undefined ? balance : mulAmount(balance, mark) }
  })
  const total = valued.reduce((sum, row) => sum + row.value, 0n)
  const rows = valued.map((row) => ({
    ...row,
    weight: total === 0n ? 0n : (row.value * ONE) / total,
    target: targets.get(row.asset) ?? 0n,
  }))
  return { rows, total }
}
