import { formatAmount, parseAmount } from '../../../src/core/money/decimal.js'
import type { IntentRow } from '../../../src/store/schema/index.js'
import type { DrillView } from './drillView.js'
import type { HaltExplanations } from './halts.js'
import { checkIntentCancels } from './intentCancels.js'
import { checkIntentModifies } from './intentModifies.js'
import { checkIntentOrders } from './intentOrders.js'
import type { Tally } from './tally.js'
import type { AskedIntent } from './types.js'

/**
 * One intent's checks: what intake recorded is what the workload asked (`ask`; `askedAny` when the
 * workload's asks were given at all), then its orders against the operator's (duplicates, every
 * order's state and fills), its cancels and its modifies. `halts` explains what the drill's kill
 * switches did to the intent's orders (cancelled before placement, by a CancelAll, or by a late cancel).
 */
export function checkIntent(v: DrillView, t: Tally, intent: IntentRow, ask: AskedIntent | undefined, askedAny: boolean, halts: HaltExplanations): void {
  const { ordersByIntent, rowsByIntent, chainsOf, venueOf } = v
  const intentOrders = ordersByIntent.get(intent.id) ?? []
  const rows = rowsByIntent.get(intent.id) ?? []
  const cancelRows = rows.filter((r) => r.kind === 'CancelOrder')
  const modifyRows = rows.filter((r) => r.kind === 'ModifyOrder')
  for (const o of intentOrders) t.states[o.state] = (t.states[o.state] ?? 0) + 1

  // An intent the workload never placed (given its asks) is one the user never wanted.
  if (askedAny && !ask) { t.duplicates++; t.note(`intent ${intent.id} (${intent.clientRef ?? 'no client ref'}) was never placed by the workload`) }
  // What the workload asked must be what intake recorded.
  if (ask) {
    if (parseAmount('price', intent.price) !== parseAmount('price', ask.price) || parseAmount('size', intent.size) !== parseAmount('size', ask.size)) {
      t.modifiesWrong++
      t.note(`intent ${intent.id} (${ask.clientRef}) records ${intent.price} x ${intent.size}; the user asked ${ask.price} x ${ask.size}`)
    }
    for (const m of ask.modifies) {
      const row = modifyRows.find((r) => r.id === m.outboxId)
      if (!row) { t.modifiesWrong++; t.note(`intent ${intent.id}: the modify ${m.outboxId} the user asked (${m.price} x ${m.size}) has no outbox row`); continue }
      // Moved to a session's replacement (`follows`: the last cancelled order it left), its size is the
      // asked total less what the orders it left filled at the operator.
      const left = row.payload.follows === undefined ? 0n : filledLeft(v, m.orderId, String(row.payload.follows))
      const size = parseAmount('size', m.size) - left
      if (parseAmount('price', String(row.payload.price)) !== parseAmount('price', m.price) || parseAmount('size', String(row.payload.size)) !== size) {
        t.modifiesWrong++
        t.note(`intent ${intent.id}: modify row ${row.id} carries ${String(row.payload.price)} x ${String(row.payload.size)}; the user asked ${m.price} x ${m.size}${left ? `, less the ${formatAmount(left)} the orders it left filled: ${formatAmount(size)}` : ''}`)
      }
    }
    // A modify the workload did not ask (one moved to a session's replacement keeps its id).
    for (const r of modifyRows.filter((row) => !ask.modifies.some((m) => m.outboxId === row.id))) {
      t.modifiesWrong++
      t.note(`intent ${intent.id}: modify row ${r.id} (${String(r.payload.price)} x ${String(r.payload.size)}) that the user never asked`)
    }
    for (const c of ask.cancels) {
      if (!cancelRows.some((r) => r.id === c)) { t.cancelsWrong++; t.note(`intent ${intent.id}: the cancel ${c} the user asked has no outbox row`) }
    }
    // A cancel the workload did not ask, whatever its reason: the workload asks no CancelAll, so a
    // worker-made cancel is unasked too, but for the late cancel of an order that reached the
    // operator after a halt's CancelAll (the kill switch's promise: counted with the halts).
    const late = cancelRows.filter((r) => !ask.cancels.includes(r.id) && halts.lateCancel(r.orderId ? v.orderById.get(r.orderId) : undefined, r))
    t.lateHaltCancels += late.length
    const stray = askedAny ? cancelRows.filter((r) => !ask.cancels.includes(r.id) && !late.includes(r)) : []
    for (const r of stray) { t.cancelsWrong++; t.note(`intent ${intent.id}: cancel row ${r.id} (reason ${String(r.payload.reason)}) that the user never asked`) }
  }
  const cancelAsked = cancelRows.length > 0 || (ask?.cancels.length ?? 0) > 0

  if (!intentOrders.length) { t.lost++; t.note(`intent ${intent.id} has no order row`); return }
  const chains = chainsOf(intentOrders)
  const atVenue = intentOrders.filter((o) => venueOf(o))

  checkIntentOrders(v, t, intent, intentOrders, chains, atVenue, cancelAsked, halts)
  const final = chains.flat().filter((o) => venueOf(o)).at(-1)
  const finalVenue = venueOf(final)
  checkIntentCancels(v, t, { final, finalVenue, atVenue, cancelAsked, cancelRows }, halts)
  if (final && finalVenue) checkIntentModifies(v, t, { intent, chains, final, finalVenue, modifyRows }, halts)
}

/**
 * What the orders a modify left filled at the operator: from the order it was asked of (`askedOf`;
 * unknown: the one it follows alone) along `replaced_by` to the one it follows.
 */
function filledLeft(v: DrillView, askedOf: string | undefined, follows: string): bigint {
  let filled = 0n
  for (let o = v.orderById.get(askedOf ?? follows); o; o = o.replacedBy ? v.orderById.get(o.replacedBy) : undefined) {
    filled += v.venueOf(o)?.filled ?? 0n
    if (o.id === follows) return filled
  }
  return v.venueOf(v.orderById.get(follows))?.filled ?? 0n
}
