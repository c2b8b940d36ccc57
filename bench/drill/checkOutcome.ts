import { parseAmount } from '../../src/core/money/decimal.js'
import type { Sandbox } from '../../src/sandbox/startSandbox.js'
import type { Db } from '../../src/store/Database.js'
import { and, eq, inArray } from 'drizzle-orm'
import { requests } from '../../src/store/schema/index.js'
import type { HaltRecord } from './killSwitches.js'
import { checkIntent } from './outcome/checkIntent.js'
import { loadDrillView } from './outcome/drillView.js'
import { exercisedAtOperator } from './outcome/exercised.js'
import { checkHalts, haltsExplaining } from './outcome/halts.js'
import { orderHistory } from './outcome/orderHistory.js'
import { createTally } from './outcome/tally.js'
import type { AskedIntent, Outcome } from './outcome/types.js'

export type { AskedIntent, Outcome } from './outcome/types.js'

/**
 * Compares Postgres with the operator's own state (the in-process sandbox) and with what the
 * workload asked (`asked`, by clientRef; without it the asks are read from the outbox alone).
 * Every counter must be zero. The per-intent checks are in `outcome/`. `killSwitches`: the halts the
 * drill made (their checks are in `outcome/halts.ts`) and the placements intake refused meanwhile.
 */
export async function checkOutcome(db: Db, sandbox: Sandbox, walletIds: string[], asked?: AskedIntent[], killSwitches: KillSwitchRun = { halts: [], refusedByHalt: [] }): Promise<Outcome> {
  const v = await loadDrillView(db, sandbox, walletIds)
  const t = createTally()
  const halts = haltsExplaining(killSwitches.halts)

  // Duplicates the intents cannot show: orders the operator made beyond one per cloid, and orders of no intent.
  const created = sandbox.state.counters.order
  t.duplicates = created - v.mapped
  if (t.duplicates > 0) t.note(`the operator created ${created} orders but holds ${v.mapped} cloids`)
  for (const cloid of v.venueOrders.keys()) {
    if (!v.orderByCloid.get(cloid)?.intentId) { t.duplicates++; t.note(`operator order ${cloid} belongs to no intent`) }
  }

  // Every placed clientRef must have its intent; then each intent's own checks.
  const refs = new Set(v.allIntents.map((i) => i.clientRef))
  const askedByRef = new Map((asked ?? []).map((a) => [a.clientRef, a]))
  for (const a of asked ?? []) {
    if (!refs.has(a.clientRef)) { t.lost++; t.note(`placed ${a.clientRef} has no intent in Postgres`) }
  }
  // A placement intake refused because the wallet was halted has no intent (the user was told no).
  // It is not among the asks, so it is not counted lost; an intent for it would be counted a duplicate.
  for (const ref of killSwitches.refusedByHalt) {
    if (refs.has(ref)) t.note(`placement ${ref}, refused because the wallet was halted, has an intent in Postgres`)
  }
  for (const intent of v.allIntents) checkIntent(v, t, intent, intent.clientRef ? askedByRef.get(intent.clientRef) : undefined, asked !== undefined, halts)
  const placements = killSwitches.halts.length === 0 ? [] : await db.select().from(requests).where(and(inArray(requests.walletId, walletIds), eq(requests.family, 'Order')))
  const halted = checkHalts(v, sandbox, killSwitches.halts, placements, t, Date.now())

  // Postgres fill rows the operator never made.
  for (const row of v.allFills) {
    const walletKey = [...sandbox.state.wallets.values()].find((w) => w.orders.has(row.clientOrderId.toLowerCase()))?.key
    if (!v.venueFillById.has(`${walletKey}:${row.fillId}`)) { t.fillsDiffering++; t.note(`fill row ${row.fillId} (${row.clientOrderId}) is not a fill at the operator`) }
  }

  // Outbox rows that failed for good. A modify the operator refused because its size did not exceed
  // what had filled is the user's ask being impossible, proven by the operator's filled size.
  for (const row of v.allOutbox.filter((r) => r.status === 'failed')) {
    const venue = v.venueOf(row.orderId ? v.orderById.get(row.orderId) : undefined)
    if (row.kind === 'ModifyOrder' && row.lastError?.startsWith('InvalidRequest') && venue && parseAmount('size', String(row.payload.size)) <= venue.filled) continue
    t.failedOutbox++
    t.note(`outbox ${row.kind} ${row.id} (order ${row.orderId ?? '-'}) failed: ${row.lastError ?? ''}`)
  }

  const histories: string[] = []
  for (const { order, wallet } of t.historyOf) histories.push(await orderHistory(db, sandbox, order, wallet))
  return {
    intents: v.allIntents.length, operatorOrders: v.venueOrders.size, duplicates: t.duplicates, lost: t.lost, mismatched: t.mismatched,
    cancelsWrong: t.cancelsWrong, modifiesWrong: t.modifiesWrong, fillsDiffering: t.fillsDiffering, failedOutbox: t.failedOutbox,
    cancelledBeforePlacement: t.cancelledBeforePlacement,
    killSwitch: {
      ...halted, refusedPlacements: killSwitches.refusedByHalt.length, cancelledBeforePlacement: t.cancelledByHaltBeforePlacement,
      cancelledAtOperator: t.cancelledByHaltAtOperator, lateCancels: t.lateHaltCancels, modifiesDropped: t.modifiesDroppedByHalt,
    },
    exercised: exercisedAtOperator(v), states: t.states, examples: t.examples, histories,
  }
}

/** The drill's kill switches: what `checkOutcome` checks of them. */
export type KillSwitchRun = { halts: HaltRecord[]; refusedByHalt: string[] }

/** What the run itself counts beside the outcome: each must be zero too. */
export type RunProblems = {
  /** Worker processes that exited without being killed. */
  crashes: number
  /** Submit jobs that used up their attempts (work that failed for minutes on end). */
  failedSubmitJobs: number
  /** Worker processes that did not exit 0 within the grace of a SIGTERM: the final one, or one mid-run (--stops). */
  uncleanStops: number
}

/** The problem counters of an outcome and of the run, labelled as the drill prints them. */
export function problemRows(outcome: Outcome, run: RunProblems): [string, number][] {
  return [
    ['duplicate orders at the operator', outcome.duplicates],
    ['intents lost', outcome.lost],
    ['orders differing (Postgres vs operator)', outcome.mismatched],
    ['cancels without effect or unasked', outcome.cancelsWrong],
    ['price/size not as asked (modifies)', outcome.modifiesWrong],
    ['fills differing (avg price, fees, rows)', outcome.fillsDiffering],
    ['orders surviving a halt', outcome.killSwitch.survivors],
    ['orders placed while halted', outcome.killSwitch.placedWhileHalted],
    ['halts not resumed, or without CancelAll', outcome.killSwitch.unresolved],
    ['outbox rows failed', outcome.failedOutbox],
    ['submit jobs failed for good', run.failedSubmitJobs],
    ['worker processes that crashed', run.crashes],
    ['worker processes not stopped cleanly', run.uncleanStops],
  ]
}
