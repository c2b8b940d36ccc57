import { MAX_AMOUNT } from '../money/decimal.js'
import type { OrderSnapshot } from './applyOrderUpdate.js'

/** orders.filled_notional is numeric(156, 0): Σ price × size of the counted fills, unscaled. */
const MAX_NOTIONAL = 10n ** 156n - 1n

/**
 * Why counting this fill on this order would take one of its totals past what is stored and read
 * back, or undefined when it can be counted: the filled size and the fees (numeric(78,18), read back
 * by `parseAmount`, up to uint256 at 18 decimals) and Σ price × size (numeric(156,0)). Each fill may
 * be valid on its own (`eventProblem`, `fillReadProblem`) and their sum not: counted, the order's
 * write would fail, or its next read, on every retry, and every later event of its wallet with it.
 * No operator fills an order past its size (at most uint256), so such a fill is a wrong one.
 * `prefix` is put before the field's name (`data.` for an event's).
 */
export function uncountableFill(
  order: Pick<OrderSnapshot, 'filled' | 'filledNotional' | 'fees'>,
  fill: { price: bigint; size: bigint; fee: bigint },
  prefix = '',
): string | undefined {
  const past = 'the largest amount stored (uint256 at 18 decimals)'
  if (order.filled + fill.size > MAX_AMOUNT) return `${prefix}size: counted on its order, the filled size would exceed ${past}`
  const fees = order.fees + fill.fee
  if (fees > MAX_AMOUNT || fees < -MAX_AMOUNT) return `${prefix}fee: counted on its order, the fees would exceed ${past}`
  if (order.filledNotional + fill.price * fill.size > MAX_NOTIONAL) return `${prefix}price: counted on its order, the sum of price × size would exceed 156 digits`
  return undefined
}
