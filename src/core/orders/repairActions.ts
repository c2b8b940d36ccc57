/**
 * Every repair the reconciler records (audit log rows, actor `reconciler`), by action: an order's
 * state or its price, size or revision read back from the operator (`order.state`,
 * `order.modified`), an order unknown to the operator placed again (`order.resubmitted`), an
 * orphan adopted or cancelled (`orphan.adopt`, `orphan.cancel`), an order recorded ended here but
 * live there (`order.liveAtOperator`), a failed reconciler's cancel queued again
 * (`order.cancelRetried`, `orphan.cancelRetried`), a fill linked to its adopted order or read back
 * (`fill.linked`, `fill.backfilled`). `/metrics` reports each in `deputy_reconciliation_repairs{action}`
 * from the start, at 0 until one is made: a series that first appears at 1 is no increase to
 * Prometheus (`increase`, `changes`), so a rule would miss the first repair of a kind.
 */
export const repairActions = [
  'order.state', 'order.modified', 'order.resubmitted', 'orphan.adopt', 'orphan.cancel', 'order.liveAtOperator',
  'order.cancelRetried', 'orphan.cancelRetried', 'fill.linked', 'fill.backfilled',
] as const

export type RepairAction = (typeof repairActions)[number]
