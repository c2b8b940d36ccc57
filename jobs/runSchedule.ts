/**
 * Processor: one run of a rebalancing schedule (control queue, job name `scheduleRun`, produced by
 * the schedule's BullMQ job scheduler; see `src/runtime/schedules/syncSchedule.ts`).
 * - Payload: `ScheduleRunJobData` { scheduleId }; the slot is the scheduler's time for the job
 *   (`job.opts.prevMillis`, also the tail of the job id `repeat:<scheduleId>:<ms>`).
 * - Reads: the schedule and its run log (row lock), the wallet's active session, the schedule's
 *   earlier working orders, balances (authenticated read), the operator's markets and tickers.
 * - Writes: a `schedule_runs` row per (schedule, slot): `running` (`sellsPlacedAt` when its sells go first), then `completed` (legs written,
 *   perhaps none), `skipped` (paused / deleted / edited / halted, `repeatedWallTime` (a wall time the clock
 *   going back brought again, for a cron that names its hours), `late` (claimed more than
 *   `maxLatenessMs`, SCHEDULE_MAX_LATENESS_MS, after its slot: the worker or Redis was down; so is a
 *   run left before it placed anything and taken over that late; also an audit entry `schedule.run.skipped`
 *   and alert `SCHEDULE_RUN_SKIPPED`, once per slot, naming the slot and how late, claimed in the transaction that records the skip), superseded when left by its job
 *   (lost, or back after `staleRunMs`) before it placed anything while a later slot is due, or earlier runs' orders still
 *   working when the wait ended, which also alerts `SCHEDULE_SKIPPED`, claimed with the skip), `awaiting_delegation` (no session) or `failed`; CancelOrder outbox
 *   rows for earlier runs' working orders with none on its way (asked again when an earlier cancel
 *   ended without effect); per leg an intent, an order and an Order outbox row in one
 *   transaction; before/after tables, legs and skips in the run.
 * - Flow: claim the slot (missed slots coalesce into the latest; a run left `running` by a lost job
 *   is taken over: one that placed no legs yet is skipped `superseded` when a later slot is due, and
 *   the job claims that slot, whose run would only cancel what it placed; so is one its own job
 *   comes back to only after `staleRunMs` (its worker was down; untouched that long on Postgres's clock, not a worker's); one whose sells went out
 *   is finished first, its buys placed, then the job comes back for its own slot) → no session: `awaiting_delegation`
 *   → cancel earlier runs' working orders and wait (re-delayed, not blocking the queue) until they
 *   settle (still working after `settleTimeoutMs`: the run is skipped, trading nothing) → read →
 *   `computeRebalance` → write. Buys spend the quote on hand and the sells' proceeds less
 *   `feeReserveBps` for fees. When the buys need the sells' proceeds, the sells go first and the
 *   run waits for them, then re-reads and writes only buys, within what the sells left of
 *   `maxNotionalPerRun`. That wait ends `settleTimeoutMs` after the sells were placed (the run's
 *   `sellsPlacedAt`, not its start); the buys are then sized from the quote on hand, and the run notes it.
 *   An edit after the sells were placed does not end the run: its buys follow the spec as edited, and a
 *   buy stage that read the schedule before an edit landed writes nothing and reads again.
 * - A job of a schedule paused, deleted (by the user, or by a takeover of its wallet) or no longer
 *   stored runs nothing: it removes the scheduler that fired it and logs so (a warning when the
 *   schedule is not stored at all).
 * - Errors and retries: thrown errors retry (5 attempts, exponential from 1 s); a run whose last
 *   attempt fails, or that fails with a non-retryable error, is recorded `failed`. Waiting uses
 *   `moveToDelayed` and counts no attempt.
 * - Idempotency key: (schedule, slot) for the run row; (schedule, slot, leg) for intents (ON CONFLICT
 *   DO NOTHING) and for the leg's cloid, so a re-run of a slot never trades twice; the buy stage matches
 *   the sells by asset, since an edit between the stages renumbers the targets (`numberLegs`). Two attempts driving
 *   one run (a job delivered again while it still ran, a run adopted from a worker that then woke up)
 *   write legs only from a plan read at the stage the run is still at; the other attempt re-delays.
 */
import { Side } from '../src/core/eip712/types.js'
import { parseAmount } from '../src/core/money/decimal.js'
import { DEFAULT_FEE_RESERVE_BPS, buyBudget, computeRebalance } from '../src/core/rebalance/computeRebalance.js'
import { QUOTE_ASSET, type RebalanceLeg } from '../src/core/rebalance/types.js'
import { DEFAULT_MAX_LATENESS_MS, SETTLE_TIMEOUT_MS, STALE_RUN_MS } from '../src/core/rebalance/runWaits.js'
import type { WorkerDeps } from '../src/runtime/deps.js'
import { cancelScheduleOrders } from '../src/runtime/schedules/cancelScheduleOrders.js'
import { resyncSchedule } from '../src/runtime/schedules/resyncSchedule.js'
import { claimRun } from '../src/runtime/schedules/run/claimRun.js'
import { finishRun } from '../src/runtime/schedules/run/finishRun.js'
import { readPortfolio } from '../src/runtime/schedules/run/readPortfolio.js'
import { writeLegs } from '../src/runtime/schedules/run/writeLegs.js'
import { specOfRow } from '../src/runtime/schedules/scheduleSpecColumns.js'
import type { SchedulerQueue } from '../src/runtime/schedules/types.js'
import type { ScheduleRow, ScheduleRunRow } from '../src/store/schema/index.js'
import { workingScheduleOrders } from '../src/runtime/schedules/workingScheduleOrders.js'
import { alertWithin } from '../src/runtime/alertWithin.js'

/** How the processor hands control back to BullMQ: re-run this job after `ms` (never returns). */
export type RunControl = { delay(ms: number): Promise<never> }

export type RunScheduleParameters = {
  scheduleId: string
  /** The slot (unix ms) BullMQ produced the job for. */
  jobSlot: number
  jobId: string
  queue: SchedulerQueue
  control: RunControl
  /** Longest a run waits for earlier orders to settle (from its start) and for its own sells (from their placement) (default `SETTLE_TIMEOUT_MS`, 30 s, each). */
  settleTimeoutMs?: number
  /** A `running` run untouched this long lost its job and is adopted (default `STALE_RUN_MS`, 2 min). */
  staleRunMs?: number
  /** Pause between checks while waiting (default 250 ms). */
  pollMs?: number
  /** Kept out of the buy budget for fees, in basis points (default `DEFAULT_FEE_RESERVE_BPS`). */
  feeReserveBps?: number
  /** A slot claimed longer than this after it came due is skipped `late` (SCHEDULE_MAX_LATENESS_MS; default `DEFAULT_MAX_LATENESS_MS`, 10 min; 0: no limit). */
  maxLatenessMs?: number
}

export type RunScheduleResult = {
  outcome: 'completed' | 'stopped' | 'awaitingDelegation' | 'earlierOrdersWorking' | 'unknownSchedule' | 'paused' | 'deleted' | 'halted' | 'nothingDue' | 'alreadyRan' | 'repeatedWallTime' | 'late' | 'gone'
  detail: string
  runId?: string
  slot?: string
  legs?: number
}

/** Buys that cost more than the quote on hand (their fees included) can only be paid once the sells have filled. */
function needsProceeds(legs: readonly RebalanceLeg[], availableQuote: bigint, feeReserveBps: number): boolean {
  const buys = legs.filter((leg) => leg.side === Side.buy)
  const spend = buys.reduce((sum, leg) => sum + leg.notional, 0n)
  return buys.length > 0 && legs.some((leg) => leg.side === Side.sell) && spend > buyBudget(availableQuote, 0n, feeReserveBps)
}

export async function runSchedule(deps: WorkerDeps, parameters: RunScheduleParameters): Promise<RunScheduleResult> {
  const p = { ...parameters, pollMs: parameters.pollMs ?? 250, settleTimeoutMs: parameters.settleTimeoutMs ?? SETTLE_TIMEOUT_MS }
  const claim = await claimRun(deps.db, {
    scheduleId: p.scheduleId, jobSlot: p.jobSlot, jobId: p.jobId, now: deps.now(), startedAt: deps.operatorNow(), staleRunMs: p.staleRunMs ?? STALE_RUN_MS,
    maxLatenessMs: p.maxLatenessMs ?? DEFAULT_MAX_LATENESS_MS,
    // The user expected a rebalance and gets none: a person is told, once per slot (only the claim
    // that records the skip claims it; a redelivered job, or another for the slot, reads `alreadyRan`).
    claimLateAlert: (tx, late, detail) => alertWithin(deps, tx, {
      walletId: late.walletId, code: 'SCHEDULE_RUN_SKIPPED',
      message: `schedule ${p.scheduleId}: the run of slot ${new Date(late.slot).toISOString()} was skipped: ${detail}`,
      details: { scheduleId: p.scheduleId, runId: late.runId, slot: new Date(late.slot).toISOString(), reason: 'late', latenessMs: late.latenessMs, maxLatenessMs: late.maxLatenessMs },
    }),
  })
  if (claim.kind === 'wait') return p.control.delay(p.pollMs)
  if (claim.kind === 'none') {
    // Self-healing: a scheduler that outlived its schedule's activity (a lost sync) goes. Re-read under
    // the row lock rather than removed blindly: a resume may have landed since this job was claimed.
    if (claim.removeScheduler) {
      await resyncSchedule(deps.db, p.queue, p.scheduleId)
      // Nothing ran: a deleted or paused schedule's slot is recorded skipped (claimRun); one no longer stored has no row to record it on.
      const level = claim.outcome === 'unknownSchedule' ? 'warn' : 'info'
      deps.log[level]({ scheduleId: p.scheduleId, jobId: p.jobId, outcome: claim.outcome }, 'schedule run fired for a schedule not active: nothing run, its job scheduler removed')
    }
    return { outcome: claim.outcome, detail: claim.detail }
  }
  const result = await continueRun(deps, p, claim.run, claim.schedule)
  // The run of an earlier slot, taken over from a job that was lost after its sells went out (one that
  // placed nothing was superseded by the claim): this job's own slot (a claim's slot is never before
  // it) has not run yet, so the job comes back at once to claim it.
  if (claim.run.slotAt.getTime() < p.jobSlot) return p.control.delay(0)
  return result
}

/** Takes a claimed run from where it is (settling or selling) to its end, or re-delays the job. */
async function continueRun(deps: WorkerDeps, p: RunScheduleParameters & { pollMs: number; settleTimeoutMs: number }, run: ScheduleRunRow, schedule: ScheduleRow): Promise<RunScheduleResult> {
  const { settleTimeoutMs, pollMs } = p
  const slot = run.slotAt
  const summary = { runId: run.id, slot: slot.toISOString() }

  const session = await deps.sessions.active(run.walletId)
  if (!session) {
    const detail = `no active session for the wallet: nothing traded (${run.detail})`
    await finishRun(deps.db, run.id, { status: 'awaiting_delegation', reason: 'noSession', detail, now: deps.now() })
    return { outcome: 'awaitingDelegation', detail, ...summary }
  }

  // Waiting is measured across every re-delivery of the job, on the operator's clock (a re-delivery may
  // land on another worker, whose own clock may run ahead of the claimer's): for earlier runs' orders
  // from the run's start, for its own sells from when they were placed, which a first stage retried or
  // slow puts late in the run (a run in flight from before `sellsPlacedAt` was recorded: from its start).
  const operatorNow = deps.operatorNow()
  const waitedOut = (since: Date) => operatorNow >= since.getTime() + settleTimeoutMs
  const notes: string[] = []
  if (run.stage === 'settling') {
    // Earlier runs' orders still reserve funds and could still fill: cancel them and let them settle first.
    // Each noted in the run's record with its cancel.
    await cancelScheduleOrders(deps.db, { scheduleId: schedule.id, beforeSlot: slot, reason: 'scheduleRunSuperseded', runId: run.id })
    const unsettled = await workingScheduleOrders(deps.db, { scheduleId: schedule.id, which: { kind: 'earlier', slot } })
    if (unsettled.length > 0 && !waitedOut(run.startedAt)) return p.control.delay(pollMs)
    if (unsettled.length > 0) {
      // They could still fill (a cancel refused, an operator that does not answer): legs sized from the
      // balances without them would buy or sell the same amount again. The next slot tries again.
      const detail = `${unsettled.length} order(s) of earlier runs were still working after ${settleTimeoutMs} ms: nothing traded, since they could still fill and the run would trade the same amounts again`
      // A person may have to look (a cancel the operator keeps refusing, an operator that does not
      // answer): the next slot asks again for cancels that ended without effect, and skips again while
      // they do. The alert is claimed with the skip, by the attempt that records it.
      await finishRun(deps.db, run.id, {
        status: 'skipped', reason: 'earlierOrdersWorking', detail, now: deps.now(),
        claimAlert: (tx) => alertWithin(deps, tx, {
          walletId: run.walletId, code: 'SCHEDULE_SKIPPED',
          message: `schedule ${schedule.id}: the run of slot ${slot.toISOString()} was skipped: ${detail}`,
          details: { scheduleId: schedule.id, orderIds: unsettled.map((order) => order.orderId).sort() },
        }),
      })
      return { outcome: 'earlierOrdersWorking', detail, ...summary }
    }
  } else if (run.stage === 'selling') {
    const selling = await workingScheduleOrders(deps.db, { scheduleId: schedule.id, which: { kind: 'ownSells', slot } })
    if (selling.length > 0 && !waitedOut(run.sellsPlacedAt ?? run.startedAt)) return p.control.delay(pollMs)
    if (selling.length > 0) notes.push(`${selling.length} sell(s) of this run were still working ${settleTimeoutMs} ms after they were placed; the buys were sized from available quote`)
  }

  const spec = specOfRow(schedule)
  const portfolio = await readPortfolio(deps, session, spec)
  const feeReserveBps = p.feeReserveBps ?? DEFAULT_FEE_RESERVE_BPS
  // After the sells went first, the buys: sized from the balances their proceeds landed in, and
  // within what the sells left of the run's cap (a sell proposed again would be counted, not placed).
  const buysAfterSells = run.stage === 'selling'
  const capLeft = spec.maxNotionalPerRun !== undefined && buysAfterSells
    ? spec.maxNotionalPerRun - run.legs.reduce((sum, leg) => sum + parseAmount('notional', leg.notional), 0n)
    : spec.maxNotionalPerRun
  const plan = computeRebalance({
    balances: portfolio.balances, available: portfolio.available, marks: portfolio.marks, markets: portfolio.markets, feeReserveBps,
    spec: capLeft === undefined ? spec : { ...spec, maxNotionalPerRun: capLeft > 0n ? capLeft : 0n },
    ...(buysAfterSells ? { only: 'buys' as const } : {}),
  })
  const sellsFirst = run.stage === 'settling' && needsProceeds(plan.legs, portfolio.available[QUOTE_ASSET] ?? 0n, feeReserveBps)
  if (sellsFirst) notes.push('the buys need the sells\' proceeds: sells placed first, buys after they settle')
  const written = await writeLegs(deps.db, {
    runId: run.id, plan, legs: sellsFirst ? plan.legs.filter((leg) => leg.side === Side.sell) : plan.legs, final: !sellsFirst, stage: run.stage,
    scheduleVersion: schedule.version, notes, now: deps.now(), operatorNow: deps.operatorNow(),
  })
  if (written.kind === 'gone') return { outcome: 'gone', detail: 'another attempt finished the run', ...summary }
  // Another attempt placed the sells after this one read: its plan counted them as not placed. It comes back to the stage the run is at.
  if (written.kind === 'restaged') return p.control.delay(pollMs)
  // Edited while the buys were read: they are read again (at once) under the spec as edited, the sells' proceeds spent in this run.
  if (written.kind === 'edited') return p.control.delay(pollMs)
  if (written.kind === 'stopped') return { outcome: 'stopped', detail: written.reason, legs: written.run.legs.length, ...summary }
  if (sellsFirst) return p.control.delay(pollMs)
  return { outcome: 'completed', detail: written.run.detail, legs: written.run.legs.length, ...summary }
}
