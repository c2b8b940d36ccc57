import type { OrderRow } from '../../../src/store/schema/index.js'

/**
 * The drill's problem counters (each must end at 0), the first problems in words, and the first few
 * problem orders whose histories the report prints.
 */
export function createTally() {
  const examples: string[] = []
  const historyOf: { order: OrderRow; wallet: string }[] = []
  return {
    duplicates: 0,
    lost: 0,
    mismatched: 0,
    cancelsWrong: 0,
    modifiesWrong: 0,
    fillsDiffering: 0,
    failedOutbox: 0,
    cancelledBeforePlacement: 0,
    /** What the drill's kill switches did to intents (none of it lost): unsent orders dropped, orders a CancelAll cancelled, late cancels of orders that landed after it. */
    cancelledByHaltBeforePlacement: 0,
    cancelledByHaltAtOperator: 0,
    lateHaltCancels: 0,
    modifiesDroppedByHalt: 0,
    states: {} as Record<string, number>,
    examples,
    historyOf,
    note(text: string): void {
      if (examples.length < 30) examples.push(text)
    },
    explain(order: OrderRow | undefined, wallet: string | undefined): void {
      if (order && wallet && historyOf.length < 3 && !historyOf.some((h) => h.order.id === order.id)) historyOf.push({ order, wallet })
    },
  }
}
export type Tally = ReturnType<typeof createTally>
