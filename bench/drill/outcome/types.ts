import type { HaltOutcome } from './halts.js'

/** What the workload asked for one intent, by the outbox ids intake answered (so each ask can be found in Postgres). */
export type AskedIntent = {
  clientRef: string
  price: string
  size: string
  /** `orderId`: the order the modify was asked of (the intent's current one then); a session's end may move it to a replacement. */
  modifies: { outboxId: string; orderId?: string; price: string; size: string }[]
  cancels: string[]
}

export type Outcome = {
  intents: number
  operatorOrders: number
  /** Orders the operator created beyond one per cloid, orders no intent accounts for, intents the workload never placed, and an intent's second live or filled order that no session rotation explains. */
  duplicates: number
  /** Placed intents missing from Postgres, intents with no order at the operator that no asked cancel explains. */
  lost: number
  /** Orders (every one, Postgres's and the operator's) whose state, filled size, price or size differ. */
  mismatched: number
  /** Asked cancels that did not end the order (or came after a fill the cancel should have beaten), and orders cancelled at the operator that nobody asked to cancel. */
  cancelsWrong: number
  /** Orders whose final price or size at the operator is not the last one the user asked (placement or modify), modifies applied or queued that nobody asked, and asked modifies dropped while the order was live. */
  modifiesWrong: number
  /** Orders whose average price or fees differ, and fills missing on one side or differing by fill id. */
  fillsDiffering: number
  /** Outbox rows that failed for good (a business refusal the operator's state proves is not counted). */
  failedOutbox: number
  cancelledBeforePlacement: number
  /**
   * The kill switches (`outcome/halts.ts`): the problems (survivors, placedWhileHalted, unresolved) and
   * what the halts did to intents, none of it counted lost: placements intake refused (no intent),
   * orders cancelled before placement, cancelled at the operator by a halt's CancelAll, and late
   * cancels of orders that reached the operator after it; and modifies queued before a halt that it dropped unsent.
   */
  killSwitch: HaltOutcome & { refusedPlacements: number; cancelledBeforePlacement: number; cancelledAtOperator: number; lateCancels: number; modifiesDropped: number }
  /** What reached the operator, to show what a run exercised. */
  exercised: {
    userCancels: number; userCancelsOfPartlyFilled: number; modifiesApplied: number; modifiedThenFilled: number; partiallyFilled: number; iocRemaindersCancelled: number
    /** Orders the operator cancelled when their session ended (revoked or expired), those of them placed again (`replaced_by`), and modifies moved onto a replacement (`follows`). */
    cancelledBySessionEnd: number; placedAgain: number; modifiesMovedToReplacement: number
  }
  /** Final states in Postgres, for the report. */
  states: Record<string, number>
  /** The first few problems, for diagnosis. */
  examples: string[]
  /** For the first few problem orders: what the operator and Postgres each recorded of them. */
  histories: string[]
}

export type VenueOrder = { status: string; price: bigint; size: bigint; filled: bigint; revision: number; updatedAt: number; wallet: string }
export type VenueFill = { fillId: string; clientOrderId: string; price: bigint; size: bigint; fee: bigint }

