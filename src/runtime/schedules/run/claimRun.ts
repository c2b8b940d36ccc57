import { and, desc, eq, ne, sql } from 'drizzle-orm'
import { dueSlots } from '../../../core/rebalance/dueSlots.js'
import { firesEveryHour } from '../../../core/rebalance/firesEveryHour.js'
import { repeatedWallTimes } from '../../../core/rebalance/repeatedWallTimes.js'
import { repeatsWallTime } from '../../../core/rebalance/repeatsWallTime.js'
import { slotToRun } from '../../../core/rebalance/slotToRun.js'
import { formatDuration } from '../../../core/rebalance/runWaits.js'
import type { Db, Tx } from '../../../store/Database.js'
import { audit } from '../../../store/repositories/audit.js'
import { type ScheduleRow, type ScheduleRunRow, scheduleRuns, schedules, wallets } from '../../../store/schema/index.js'

export type ClaimRunParameters = {
  scheduleId: string
  /** The slot BullMQ produced the job for (unix ms). */
  jobSlot: number
  jobId: string
  /** The worker's clock: which slots are due, when a run it ends finished. */
  now: number
  /**
   * When a run claimed now starts (default `now`), on the clock every worker shares (the operator's):
   * its waits are measured from it by whichever worker the job is delivered to next.
   */
  startedAt?: number
  /**
   * A `running` run not touched for this long lost its job: the next job adopts it. Measured on
   * Postgres's clock (its now() against the run's `updated_at`, which Postgres writes too), never
   * a worker's: one whose clock ran ahead took a run another worker had just touched for lost.
   */
  staleRunMs: number
  /**
   * A slot claimed more than this long after it came due (on `now`) is not run: recorded `skipped`,
   * reason `late` (SCHEDULE_MAX_LATENESS_MS). 0 or absent: no limit.
   */
  maxLatenessMs?: number
  /**
   * Called inside the claim's transaction when it records the slot's run `skipped`, reason `late`:
   * claims the alert a person gets (`alertWithin`), so it exists exactly when the skip does. Answers
   * what to call once committed.
   */
  claimLateAlert?: (tx: Tx, late: LateSkip, detail: string) => Promise<() => void>
}

export type ClaimRunResult =
  | { kind: 'start' | 'resume'; run: ScheduleRunRow; schedule: ScheduleRow }
  /** Another job's run of this schedule is in flight: come back later. */
  | { kind: 'wait'; detail: string }
  | { kind: 'none'; outcome: 'unknownSchedule' | 'paused' | 'deleted' | 'halted' | 'nothingDue' | 'alreadyRan' | 'repeatedWallTime'; detail: string; removeScheduler: boolean }
  /** This claim recorded the slot's run `skipped`, reason `late` (once per slot: a later claim of it reads `alreadyRan`); its alert claimed with it (`claimLateAlert`). */
  | { kind: 'none'; outcome: 'late'; detail: string; removeScheduler: false }

/** A run a claim skipped `late`, for the alert a person gets (`claimLateAlert`). */
export type LateSkip = { runId: string; walletId: string; slot: number; latenessMs: number; maxLatenessMs: number }

const iso = (ms: number): string => new Date(ms).toISOString()

/** Why a run is skipped `late`, after "started" or "taken over". */
const lateDetail = (lateness: number, maxLatenessMs: number): string =>
  `${formatDuration(lateness)} after its slot, later than SCHEDULE_MAX_LATENESS_MS (${formatDuration(maxLatenessMs)}; the worker or Redis was down, or the queue held up): no orders, the next slot runs as usual`

/**
 * Decides, under the schedule's row lock, what this job does: resume the run it
 * owns or one a lost job left (stale), wait for another job's run, record a skip
 * (paused, deleted, halted wallet), or claim the one slot to run. A stale run
 * (a lost job's, or its own job's back only after staleRunMs) that placed no legs
 * yet is not resumed when a later slot is due: it ends `skipped`, reason
 * `superseded`, and the later slot is claimed instead. The slot is the latest due one after
 * the last run (and after the last resume); earlier due slots are coalesced into
 * it, since a rebalance reads the portfolio as it is now. A slot claimed more than
 * `maxLatenessMs` after it came due ends `skipped`, reason `late`, trading nothing, as does a run
 * left before it placed anything that no later slot supersedes, taken over that late. Inserting the run row
 * is the claim: (schedule, slot) is unique, so a redelivered job adds nothing.
 */
export async function claimRun(db: Db, p: ClaimRunParameters): Promise<ClaimRunResult> {
  let afterCommit: (() => void) | undefined
  const claimed = await db.transaction(async (tx): Promise<ClaimRunResult> => {
    const [schedule] = await tx.select().from(schedules).where(eq(schedules.id, p.scheduleId)).for('update')
    if (!schedule) return { kind: 'none', outcome: 'unknownSchedule', detail: `no schedule ${p.scheduleId}`, removeScheduler: true }

    let planned: SlotPlan | undefined
    const [found] = await tx.select({
      run: scheduleRuns,
      stale: sql<boolean>`${scheduleRuns.updatedAt} < now() - ${p.staleRunMs}::double precision * interval '1 millisecond'`,
    }).from(scheduleRuns).where(and(eq(scheduleRuns.scheduleId, schedule.id), eq(scheduleRuns.status, 'running'))).limit(1)
    if (found) {
      const { run: inFlight, stale } = found
      if (inFlight.jobId !== p.jobId && !stale) return { kind: 'wait', detail: `run for slot ${iso(inFlight.slotAt.getTime())} is in flight` }
      // Left before it wrote any leg (its job lost, or back only now, its worker down meanwhile), and a
      // later slot is due: orders placed now for this slot would be cancelled at once by that slot's run,
      // which reads the balances anew. It ends here; this job runs that slot. A run its own job still
      // drives (within staleRunMs) is resumed: its wait for earlier orders may outlast a slot.
      const unplaced = stale && inFlight.stage === 'settling' && inFlight.legs.length === 0 && schedule.status === 'active'
      planned = unplaced ? await planSlot(tx, schedule, p) : undefined
      if (!planned?.decision.run) {
        // Left before it placed anything and taken over past the limit (its worker was down for
        // hours, no later slot due since: a daily cron): it would trade now, as a late start would.
        const lateness = p.now - inFlight.slotAt.getTime()
        if (unplaced && p.maxLatenessMs && lateness > p.maxLatenessMs) {
          const detail = `taken over ${lateDetail(lateness, p.maxLatenessMs)}; ${inFlight.detail}`
          await tx.update(scheduleRuns).set({ status: 'skipped', stage: null, reason: 'late', detail, finishedAt: new Date(p.now) }).where(eq(scheduleRuns.id, inFlight.id))
          await audit(tx, { walletId: inFlight.walletId, actor: 'scheduler', action: 'schedule.run.skipped', details: { scheduleId: schedule.id, runId: inFlight.id, slot: iso(inFlight.slotAt.getTime()), reason: 'late', latenessMs: lateness, maxLatenessMs: p.maxLatenessMs } })
          afterCommit = await p.claimLateAlert?.(tx, { runId: inFlight.id, walletId: inFlight.walletId, slot: inFlight.slotAt.getTime(), latenessMs: lateness, maxLatenessMs: p.maxLatenessMs }, detail)
          return { kind: 'none', outcome: 'late', detail, removeScheduler: false }
        }
        const [adopted] = await tx.update(scheduleRuns).set({ jobId: p.jobId }).where(eq(scheduleRuns.id, inFlight.id)).returning()
        return { kind: 'resume', run: adopted!, schedule }
      }
      const later = iso(planned.decision.slot)
      await tx.update(scheduleRuns).set({
        status: 'skipped', stage: null, reason: 'superseded', finishedAt: new Date(p.now),
        detail: `superseded by slot ${later}: this run was left before it placed any orders (its job lost, or its worker down) and that slot, due since, trades from the balances as they are then (orders placed now for this slot would only be cancelled by it)`,
      }).where(eq(scheduleRuns.id, inFlight.id))
      await audit(tx, { walletId: inFlight.walletId, actor: 'scheduler', action: 'schedule.run.skipped', details: { scheduleId: schedule.id, runId: inFlight.id, slot: iso(inFlight.slotAt.getTime()), reason: 'superseded', supersededBy: later } })
    }

    const base = { scheduleId: schedule.id, walletId: schedule.walletId, scheduleVersion: schedule.version, jobId: p.jobId, startedAt: new Date(p.startedAt ?? p.now) }
    if (schedule.status !== 'active') {
      // Recorded under the job's own slot, so the log shows the slot did not trade and why.
      await tx.insert(scheduleRuns).values({
        ...base, slotAt: new Date(p.jobSlot), status: 'skipped', reason: schedule.status,
        detail: `the schedule is ${schedule.status}: no orders`, finishedAt: new Date(p.now),
      }).onConflictDoNothing()
      return { kind: 'none', outcome: schedule.status, detail: `schedule is ${schedule.status}`, removeScheduler: true }
    }

    const { wallReference, due, repeated, decision } = planned ?? await planSlot(tx, schedule, p)
    if (!decision.run && repeated && wallReference !== null) {
      const detail = `slot ${iso(p.jobSlot)} repeats the wall time of the last run's slot ${iso(wallReference)}: the clock went back in ${schedule.timeZone} between them, and that time already ran: no orders`
      await tx.insert(scheduleRuns).values({ ...base, slotAt: new Date(p.jobSlot), status: 'skipped', reason: 'repeatedWallTime', detail, finishedAt: new Date(p.now) }).onConflictDoNothing()
      return { kind: 'none', outcome: 'repeatedWallTime', detail, removeScheduler: false }
    }
    if (!decision.run) return { kind: 'none', outcome: decision.reason, detail: decision.detail, removeScheduler: false }

    const detail = due.truncated ? `${decision.detail}; more slots were due before ${iso(due.slots[0] ?? decision.slot)} and are not counted` : decision.detail
    const lateness = p.now - decision.slot
    if (p.maxLatenessMs && lateness > p.maxLatenessMs) {
      // The worker or Redis was down (or the queue held up) and BullMQ fired the job now: a plan read
      // now for a slot this old trades at a moment nobody chose. Recorded, not traded; the next slot runs.
      const skippedDetail = `started ${lateDetail(lateness, p.maxLatenessMs)}; ${detail}`
      const [late] = await tx.insert(scheduleRuns).values({
        ...base, slotAt: new Date(decision.slot), status: 'skipped', reason: 'late', detail: skippedDetail,
        coalesced: decision.coalesced, coalescedSlots: decision.coalescedSlots.map(iso), finishedAt: new Date(p.now),
      }).onConflictDoNothing().returning({ id: scheduleRuns.id })
      if (!late) return { kind: 'none', outcome: 'alreadyRan', detail: `slot ${iso(decision.slot)} already has a run`, removeScheduler: false }
      await audit(tx, { walletId: schedule.walletId, actor: 'scheduler', action: 'schedule.run.skipped', details: { scheduleId: schedule.id, runId: late.id, slot: iso(decision.slot), reason: 'late', latenessMs: lateness, maxLatenessMs: p.maxLatenessMs } })
      afterCommit = await p.claimLateAlert?.(tx, { runId: late.id, walletId: schedule.walletId, slot: decision.slot, latenessMs: lateness, maxLatenessMs: p.maxLatenessMs }, skippedDetail)
      return { kind: 'none', outcome: 'late', detail: skippedDetail, removeScheduler: false }
    }
    const [wallet] = await tx.select({ status: wallets.status, haltedReason: wallets.haltedReason }).from(wallets).where(eq(wallets.id, schedule.walletId)).for('share')
    const halted = wallet?.status === 'halted'
    const [run] = await tx.insert(scheduleRuns).values({
      ...base,
      slotAt: new Date(decision.slot),
      status: halted ? 'skipped' : 'running',
      stage: halted ? null : 'settling',
      reason: halted ? 'halted' : decision.reason,
      detail: halted ? `the wallet is halted (${wallet.haltedReason ?? 'kill switch'}): no orders; ${detail}` : detail,
      coalesced: decision.coalesced,
      coalescedSlots: decision.coalescedSlots.map(iso),
      finishedAt: halted ? new Date(p.now) : null,
    }).onConflictDoNothing().returning()
    if (!run) return { kind: 'none', outcome: 'alreadyRan', detail: `slot ${iso(decision.slot)} already has a run`, removeScheduler: false }
    if (halted) return { kind: 'none', outcome: 'halted', detail: run.detail, removeScheduler: false }
    return { kind: 'start', run, schedule }
  })
  afterCommit?.()
  return claimed
}

type SlotPlan = { lastRunSlot: number | null; wallReference: number | null; due: ReturnType<typeof dueSlots>; repeated: boolean; decision: ReturnType<typeof slotToRun> }

/** The slot to run after the schedule's latest run (and its last resume), as of `p.now` and the job's slot. */
async function planSlot(tx: Db, schedule: ScheduleRow, p: ClaimRunParameters): Promise<SlotPlan> {
  const [last] = await tx.select({ slotAt: scheduleRuns.slotAt }).from(scheduleRuns)
    .where(eq(scheduleRuns.scheduleId, schedule.id)).orderBy(desc(scheduleRuns.slotAt)).limit(1)
  const lastRunSlot = last ? last.slotAt.getTime() : null
  // Slots while paused (before activeSince) were skipped on purpose: never "missed".
  const after = Math.max(lastRunSlot ?? Number.NEGATIVE_INFINITY, schedule.activeSince.getTime())
  const due = dueSlots({ cron: schedule.cron, timeZone: schedule.timeZone, after, now: Math.max(p.now, p.jobSlot) })
  let repeated: boolean
  let wallReference = lastRunSlot
  let dueSlotsKept = due.slots
  if (firesEveryHour(schedule.cron)) {
    // Runs on elapsed time, the repeated hour included (as BullMQ fires it). A slot BullMQ computed
    // from a moment in a fall-back day's repeated hour (a job started late, a scheduler written then)
    // that its own walk does not fire is the cron's wall time again, which the last run already ran.
    repeated = lastRunSlot !== null && !due.slots.includes(p.jobSlot) && repeatsWallTime({ slot: p.jobSlot, lastRunSlot, timeZone: schedule.timeZone })
  } else {
    // Each wall time it names runs once: a slot whose wall time does not move past the last one run
    // repeats it (the clock went back). BullMQ also fires such slots when the clock goes back more
    // than an hour (Antarctica/Troll's two), and from a late start; compared with the last slot run
    // at a wall time of its own, not a repeat recorded skipped since.
    const [ran] = await tx.select({ slotAt: scheduleRuns.slotAt }).from(scheduleRuns)
      .where(and(eq(scheduleRuns.scheduleId, schedule.id), ne(scheduleRuns.reason, 'repeatedWallTime'))).orderBy(desc(scheduleRuns.slotAt)).limit(1)
    wallReference = ran ? ran.slotAt.getTime() : null
    const repeats = repeatedWallTimes({ slots: [...due.slots, p.jobSlot], reference: wallReference, timeZone: schedule.timeZone })
    repeated = repeats.includes(p.jobSlot)
    dueSlotsKept = due.slots.filter((slot) => !repeats.includes(slot))
  }
  // The job's own slot counts even at or before the last run, so a redelivered job reads as `alreadyRan`.
  const candidates = p.jobSlot > schedule.activeSince.getTime() && !repeated ? [...dueSlotsKept, p.jobSlot] : dueSlotsKept
  return { lastRunSlot, wallReference, due, repeated, decision: slotToRun({ lastRunSlot, dueSlots: candidates }) }
}
