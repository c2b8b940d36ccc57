import { eq } from 'drizzle-orm'
import type { ComputeRebalanceResult } from '../../../core/rebalance/computeRebalance.js'
import { Side } from '../../../core/eip712/types.js'
import type { RebalanceLeg } from '../../../core/rebalance/types.js'
import { formatAmount } from '../../../core/money/decimal.js'
import type { Db } from '../../../store/Database.js'
import { audit } from '../../../store/repositories/audit.js'
import { haltAskedSince } from '../../../store/repositories/walletHalted.js'
import { type RunLeg, type RunSkip, type ScheduleRunRow, type ScheduleRunStage, intents, orders, outbox, scheduleRuns, schedules, wallets } from '../../../store/schema/index.js'
import { legClientOrderId } from './legClientOrderId.js'
import { numberLegs } from './numberLegs.js'
import { pausedSince } from './pausedSince.js'
import { runRecords } from './runRecords.js'

export type WriteLegsParameters = {
  runId: string
  /** The plan the legs come from: its tables, skips and adjustments go to the run log. */
  plan: ComputeRebalanceResult
  /** The legs to place now: all of the plan's, or only its sells when the buys wait for their proceeds. */
  legs: readonly RebalanceLeg[]
  /** Whether the run ends here (`completed`) or waits for its sells (stage `selling`). */
  final: boolean
  /**
   * The stage the run was at when the plan was read. Another attempt of the run (a job BullMQ
   * delivered again while it still ran, a run adopted from a worker that woke up) may have written
   * a stage since: the plan is then stale, and nothing is written.
   */
  stage: ScheduleRunStage | null
  /** The version of the schedule whose spec the plan was computed with. */
  scheduleVersion: number
  notes: readonly string[]
  now: number
  /**
   * The clock every worker shares (the operator's; default `now`): a run that places its sells first
   * records when (`sellsPlacedAt`), and its wait for them is measured from it by whichever worker the job goes to next.
   */
  operatorNow?: number
}

export type WriteLegsResult =
  | { kind: 'written'; run: ScheduleRunRow; inserted: RunLeg[] }
  /** Paused (even if resumed since), deleted, edited or halted while the run computed: nothing written by this call. */
  | { kind: 'stopped'; run: ScheduleRunRow; reason: string }
  /** The run is no longer running (another attempt finished it). */
  | { kind: 'gone' }
  /** Another attempt moved the run to another stage since the plan was read: nothing written; read again from there. */
  | { kind: 'restaged'; stage: ScheduleRunStage | null }
  /** Edited after the buy stage's plan was read, the run's sells placed: nothing written; read the buys again under the spec as edited. */
  | { kind: 'edited'; version: number }

/**
 * Writes the legs' intents, orders and outbox rows, and the run log, in one
 * transaction under the schedule's row lock. The schedule must still be active
 * at the version the run computed with, else nothing is written and the run says
 * why (a pause stops it even when the schedule was resumed since); but once the
 * run's sells are placed, the buys they fund go out if they were computed with the spec as edited (left out, the proceeds would sit in USD until
 * the next slot, which may be days away). Intents insert with ON CONFLICT (schedule, slot, leg) DO NOTHING and only a
 * new intent gets an order, so a re-run of the slot never trades twice. Legs are
 * matched with those the run wrote by asset (`numberLegs`), not by number, which an
 * edit of the targets between the stages changes: a leg whose asset this run
 * already traded the other way is logged as not placed.
 * A plan read at another stage than the run is at now (another attempt wrote one
 * meanwhile) writes nothing; so does a buy stage's plan read before an edit that
 * landed since (`edited`): the run reads the buys again under the spec as edited.
 */
export async function writeLegs(db: Db, p: WriteLegsParameters): Promise<WriteLegsResult> {
  return db.transaction(async (tx) => {
    const [run] = await tx.select().from(scheduleRuns).where(eq(scheduleRuns.id, p.runId))
    if (!run) return { kind: 'gone' }
    // Schedule first, then run: the order claimRun and the schedule functions lock in.
    const [schedule] = await tx.select().from(schedules).where(eq(schedules.id, run.scheduleId)).for('update')
    const [locked] = await tx.select().from(scheduleRuns).where(eq(scheduleRuns.id, p.runId)).for('update')
    if (!schedule || !locked || locked.status !== 'running') return { kind: 'gone' }
    // A plan read in the first stage after another attempt placed the sells would count their
    // proceeds as quote on hand, apply the whole maxNotionalPerRun again, and end the run.
    if (locked.stage !== p.stage) return { kind: 'restaged', stage: locked.stage }
    const [wallet] = await tx.select({ status: wallets.status, haltedReason: wallets.haltedReason }).from(wallets).where(eq(wallets.id, locked.walletId)).for('share')
    // Halted after the run was claimed and resumed since (the run waited meanwhile): the halt stopped
    // what the wallet had scheduled, so this run trades no more. Its CancelAll marks the halt.
    const haltedMeanwhile = wallet?.status !== 'halted' && (await haltAskedSince(tx, locked.walletId, { at: locked.createdAt }))
    const finishedAt = p.final ? new Date(p.now) : null
    const logged = {
      notes: [...locked.notes, ...p.notes],
      after: runRecords.holdings(p.plan.after),
      skippedLegs: runRecords.skips(p.plan.skipped),
      adjustments: runRecords.adjustments(p.plan.adjustments),
    }

    // Edited after the sells went out: the buys were computed with the spec as edited (the buy stage
    // reads the schedule anew), so they follow the user's latest targets, limits and band.
    const editedAfterSells = locked.stage === 'selling' && schedule.version !== locked.scheduleVersion && schedule.version === p.scheduleVersion
    // Paused and resumed before this stage (its job waited meanwhile): the pause stopped the run, as
    // it stops one it finds paused; a resume starts afresh from the next slot. Not taken for an edit.
    const resumedMeanwhile = schedule.status === 'active' && schedule.version !== locked.scheduleVersion && (await pausedSince(tx, schedule, locked.scheduleVersion))
    const halted = wallet?.status === 'halted' || haltedMeanwhile
    // Edited after this buy stage read the schedule: its plan follows a spec the user has replaced
    // (the asset it sold dropped, say). Ending the run here would leave the sells' proceeds in USD until
    // the next slot: the run reads the buys again instead, under the spec as edited.
    if (locked.stage === 'selling' && schedule.status === 'active' && schedule.version !== p.scheduleVersion && !resumedMeanwhile && !halted) {
      return { kind: 'edited', version: schedule.version }
    }
    const stop = schedule.status !== 'active'
      ? { reason: schedule.status, detail: `the schedule was ${schedule.status === 'paused' ? 'paused' : 'deleted'} while the run was in flight` }
      : resumedMeanwhile
        ? { reason: 'paused', detail: 'the schedule was paused while the run was in flight (and resumed since)' }
        : schedule.version !== locked.scheduleVersion && !editedAfterSells
          ? { reason: 'superseded', detail: `the schedule was edited (version ${locked.scheduleVersion} → ${schedule.version}) while the run was in flight; the next slot uses the new spec` }
          : wallet?.status === 'halted'
            ? { reason: 'halted', detail: `the wallet was halted (${wallet.haltedReason ?? 'kill switch'}) while the run was in flight` }
            : haltedMeanwhile
              ? { reason: 'halted', detail: 'the wallet was halted while the run was in flight (and resumed since)' }
              : undefined
    if (stop) {
      // Legs written by an earlier stage stand (they are orders at the operator); the run just ends here.
      const traded = locked.legs.length > 0
      const [stopped] = await tx.update(scheduleRuns).set({
        status: traded ? 'completed' : 'skipped', stage: null, finishedAt: new Date(p.now),
        ...(traded ? {} : { reason: stop.reason }),
        notes: [...logged.notes, `${stop.detail}: no ${traded ? 'further ' : ''}orders written`],
      }).where(eq(scheduleRuns.id, locked.id)).returning()
      await audit(tx, { walletId: locked.walletId, actor: 'scheduler', action: 'schedule.run.stopped', details: { scheduleId: locked.scheduleId, runId: locked.id, slot: locked.slotAt.toISOString(), reason: stop.reason } })
      return { kind: 'stopped', run: stopped!, reason: stop.reason }
    }

    if (editedAfterSells) logged.notes.push(`the schedule was edited (version ${locked.scheduleVersion} → ${schedule.version}) after its sells were placed: the buys follow the spec as edited`)
    const inserted: RunLeg[] = []
    // Matched with the run's legs by asset: an edit between the stages may have renumbered the assets.
    const { place, alreadyTraded } = numberLegs(locked.legs, p.legs)
    // A buy proposed after this run sold the asset (the marks moved, or the targets were edited): one slot cannot place it.
    const notPlaced: RunSkip[] = alreadyTraded.map(({ leg, earlier }) => ({
      asset: leg.asset, reason: 'alreadyTraded',
      detail: `this run already placed a ${earlier.side} of ${leg.asset} for the slot; the ${leg.side === Side.buy ? 'buy' : 'sell'} of ${formatAmount(leg.size)} proposed after it is left to the next slot`,
    }))
    for (const leg of place) {
      const price = formatAmount(leg.price)
      const size = formatAmount(leg.size)
      const [intent] = await tx.insert(intents).values({
        walletId: locked.walletId, kind: 'rebalance', market: leg.market, side: leg.side, price, size, timeInForce: 0,
        scheduleId: locked.scheduleId, slotAt: locked.slotAt, leg: leg.leg,
      }).onConflictDoNothing({ target: [intents.scheduleId, intents.slotAt, intents.leg] }).returning({ id: intents.id })
      // The slot's intents are the run's legs (written together, here), which numberLegs kept clear of: a backstop only.
      if (!intent) continue
      const clientOrderId = legClientOrderId(locked.scheduleId, locked.slotAt, leg.leg)
      const [order] = await tx.insert(orders).values({
        walletId: locked.walletId, intentId: intent.id, clientOrderId, market: leg.market, side: leg.side, price, size, timeInForce: 0, state: 'pending',
      }).returning({ id: orders.id })
      await tx.insert(outbox).values({ walletId: locked.walletId, kind: 'Order', orderId: order!.id, payload: {} })
      inserted.push(runRecords.leg(leg, { intentId: intent.id, orderId: order!.id, clientOrderId }))
    }
    const [updated] = await tx.update(scheduleRuns).set({
      ...logged,
      skippedLegs: [...logged.skippedLegs, ...notPlaced],
      legs: [...locked.legs, ...inserted],
      // The table before the first stage is the run's "before"; a later stage reads a portfolio its own sells already moved.
      before: locked.before ?? runRecords.holdings(p.plan.before),
      portfolioValue: locked.portfolioValue ?? formatAmount(p.plan.portfolioValue),
      stage: p.final ? null : 'selling',
      ...(p.final ? {} : { sellsPlacedAt: new Date(p.operatorNow ?? p.now) }),
      status: p.final ? 'completed' : 'running',
      finishedAt,
    }).where(eq(scheduleRuns.id, locked.id)).returning()
    await audit(tx, {
      walletId: locked.walletId, actor: 'scheduler', action: p.final ? 'schedule.run.completed' : 'schedule.run.sells_placed',
      details: { scheduleId: locked.scheduleId, runId: locked.id, slot: locked.slotAt.toISOString(), orderIds: inserted.map((leg) => leg.orderId) },
    })
    return { kind: 'written', run: updated!, inserted }
  })
}
