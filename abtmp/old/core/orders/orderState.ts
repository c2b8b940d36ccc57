/**
 * Order states as Deputy persists them. `pending` → `submitting` → `open` →
 * `partially_filled` → `filled`, or → `cancelled` / `rejected`. `unknown` means
 * a request went out and its answer was lost: it is resolved by resending the
 * identical bytes or by reading the order by cloid — never by guessing.
 */
export const orderStates = ['pending', 'submitting', 'unknown', 'open', 'partially_filled', 'filled', 'cancelled', 'rejected'] as const
export type OrderState = (typeof orderStates)[number]

export const terminalOrderStates: readonly OrderState[] = ['filled', 'cancelled', 'rejected']
/** States in which the operator may hold the order open: Modify and Cancel may target it. */
export const liveOrderStates: readonly OrderState[] = ['open', 'partially_filled']
/** States in which a request for the order may be in flight or its outcome unresolved. */
export const unresolvedOrderStates: readonly OrderState[] = ['submitting', 'unknown']

export function isTerminal(state: OrderState): boolean {
  return terminalOrderStates.includes(state)
}
